"""The simulated miners' models: the specs of windhash's model registry (migration 0200), so a simulated
miner hashes and draws what its registered model says, plus what only a simulation needs (fans, boards, the
control board's power while asleep)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class SimModel:
    name: str
    hashrate_ths: float
    power_w: float
    hashboards: int = 3
    fans: int = 4
    # The control board, PSU losses and idling fans: what a sleeping miner still draws.
    sleep_power_w: float = 25.0


SIM_MODELS: dict[str, SimModel] = {
    model.name: model
    for model in (
        SimModel("S9", 13.5, 1323, fans=2, sleep_power_w=15.0),
        SimModel("M20S", 68, 3360, fans=2),
        SimModel("S19J_PRO", 100, 3050),
        SimModel("S21", 200, 3500),
        SimModel("M60S", 186, 3441, fans=2),
        SimModel("S21_XP", 270, 3645),
    )
}
DEFAULT_MODELS = ("S19J_PRO", "S21", "M60S", "S21_XP")


def sim_model(name: str) -> SimModel:
    try:
        return SIM_MODELS[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; the simulator knows {', '.join(SIM_MODELS)}") from None
