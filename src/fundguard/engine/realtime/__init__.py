"""Real-time audit (事前提醒、事中审核): the 3101/3102 rules on one encounter plus the patient's history.

The same rule SQL as the batch engine, transpiled for SQLite and run per patient on a worker's connection
(``lite``, ``executor``) over the message's rows and the patient's history (``history``: a SQLite mirror of
the store); messages validated field by field (``fields``) and mapped onto the national tables (``mapping``);
rules chosen by stage and trigger scene (``scenes``); answers as the platform's DTOs (``results``); 3103
feedback and override rates (``feedback``); what a worker thread or process does with a message (``worker``) and
the service around it (``service``). See docs/realtime.md.
"""

from __future__ import annotations

from fundguard.engine.realtime.feedback import init_realtime_schema, override_stats

__all__ = ["RealtimeService", "init_realtime_schema", "override_stats"]


def __getattr__(name: str):
    if name == "RealtimeService":  # imported lazily: it loads the rule library
        from fundguard.engine.realtime.service import RealtimeService

        return RealtimeService
    raise AttributeError(name)
