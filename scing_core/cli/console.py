"""Console progress for long commands: tqdm bars with ETA on a terminal, plain lines otherwise."""

from __future__ import annotations

import sys

from tqdm import tqdm


class ConsoleProgress:
    """Follows training events (as a hook's ``on_event``) and shows per-epoch progress."""

    def __init__(self, stream=None, force_plain: bool | None = None) -> None:
        self.stream = stream or sys.stderr
        self.plain = force_plain if force_plain is not None else not self.stream.isatty()
        self._bar = None
        self._stage = None

    # the engine calls these (Hook protocol) ---------------------------------------------------
    def after_step(self, ctx, stage, epoch, step, parts):
        if self.plain:
            return
        if self._bar is None:
            self._bar = tqdm(total=stage.steps_per_epoch, initial=step, file=self.stream, leave=False,
                             desc=f"stage {stage.index} epoch {epoch + 1}/{stage.cfg.epochs}")
        self._bar.update(1)
        self._bar.set_postfix(loss=f"{parts.get('total', 0.0):.4f}")

    def after_epoch(self, ctx, stage, epoch):
        self._close()

    def on_stop(self, ctx, stage, epoch, step):
        self._close()

    def after_stage(self, ctx, stage):
        self._close()

    def on_event(self, event: dict) -> None:
        kind = event["type"]
        if kind == "stage_started":
            self._line(f"stage {event['stage']} ({event['name']}): {event['epochs']} epochs")
        elif kind == "epoch_end":
            loss = event["losses"].get("total", float("nan"))
            self._line(f"  stage {event['stage']} epoch {event['epoch'] + 1}/{event['epochs']}  loss {loss:.4f}  "
                       f"lr {event['lr']:.2e}  {event['seconds']:.1f}s")
        elif kind == "eval":
            self._line(f"  eval {event['dataset']}: mAP {100 * event['mAP']:.1f}  R1 {100 * event['R1']:.1f}"
                       + ("  (final)" if event.get("final") else ""))
        elif kind == "run_finished":
            self._line(f"run {event['status']} in {event['seconds']:.0f}s")
        elif kind == "error":
            self._line(f"error: {event['message']}")

    def _line(self, text: str) -> None:
        if self._bar is not None:
            self._bar.write(text, file=self.stream)
        else:
            print(text, file=self.stream, flush=True)

    def _close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
