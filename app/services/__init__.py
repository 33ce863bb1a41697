"""Qt services of the studio: training processes (QProcess + event follower), worker threads, and the
thin client over ``scing_core.api``."""
