"""docs/workflow.md stays true to the code: every state, action, deadline setting and penalty basis is described."""

from pathlib import Path

from fundguard.config import Settings
from fundguard.workflow.transitions import (
    ACTION_LABELS,
    PENALTY_BASES,
    STATE_DEADLINE_SETTING,
    STATE_LABELS,
    TRANSITIONS,
)

DOC = (Path(__file__).resolve().parents[2] / "docs" / "workflow.md").read_text(encoding="utf-8")


def test_states_actions_and_settings_are_documented():
    for state, label in STATE_LABELS.items():
        assert f"| {label} | `{state.value}` |" in DOC, state
    for action, label in ACTION_LABELS.items():
        assert f"| {label} | `{action.value}` |" in DOC, action
    defaults = Settings(_env_file=None)
    for key in set(STATE_DEADLINE_SETTING.values()) | {"workflow_four_eyes"}:
        value = getattr(defaults, key)
        assert f"`FUNDGUARD_{key.upper()}` | {str(value).lower()} |" in DOC, key
    for key in PENALTY_BASES:
        assert f"| `{key}` |" in DOC
    for (state, action), tr in TRANSITIONS.items():
        row = next(line for line in DOC.splitlines() if line.startswith(f"| {ACTION_LABELS[action]} | `"))
        assert STATE_LABELS[tr.to].split("（")[0] in row, (state, action)
