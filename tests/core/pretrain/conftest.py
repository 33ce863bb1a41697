"""One intra-op thread for the pre-training tests.

On a CPU shared with other jobs, OpenMP's spinning worker threads make the many small operations of
a small CLIP step 5-50x slower with 2 threads than with 1 (the other thread is often descheduled
while its partner spins). One thread keeps these tests at their few seconds whatever the load; the
library itself leaves ``torch.set_num_threads`` alone.
"""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True, scope="package")
def _one_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
