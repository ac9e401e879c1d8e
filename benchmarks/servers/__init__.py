"""The servers the generator measures besides the stack: each runs as ``python -m <module>``.

Each prints ``bench server ready: http://127.0.0.1:<port>`` once it listens and stops on SIGINT
or SIGTERM.
"""

__all__: list[str] = []
