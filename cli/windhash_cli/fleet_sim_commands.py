"""`windhash fleet-sim`: SYNTHETIC ASIC miners answering the cgminer RPC API (LuxOS), with fault injection."""

import typer


def fleet_sim(
    miners: int = typer.Option(100, min=1, help="How many miners."),
    base_address: str = typer.Option(
        "127.1.0.1", help="First miner's address; the next miners take the next loopback addresses."
    ),
    port: int = typer.Option(4028, min=1, max=65535, help="Every miner's RPC port."),
    control_port: int = typer.Option(18090, min=1, max=65535, help="Control API port (127.0.0.1)."),
    seed: int = typer.Option(2024, help="Same seed, same serials, same faulty miners, same noise."),
    models: str = typer.Option(
        "S19J_PRO,S21,M60S,S21_XP", help="Models, assigned to the miners in turn (comma-separated)."
    ),
    serial_prefix: str = typer.Option("SIM", help="Serial numbers are PREFIX-SEED-NNNNNN."),
    offline: float = typer.Option(0.0, min=0, max=1, help="Fraction of miners offline (connection refused)."),
    overheating: float = typer.Option(0.0, min=0, max=1, help="Fraction of miners overheating."),
    hashrate_drop: float = typer.Option(0.0, min=0, max=1, help="Fraction of miners with a hashrate drop."),
    drop_by: float = typer.Option(0.33, min=0, max=1, help="Hashrate those miners lose (fraction)."),
    slow: float = typer.Option(0.0, min=0, max=1, help="Fraction of miners answering slowly."),
    slow_ms: float = typer.Option(10_000, min=0, help="How slowly (ms)."),
    malformed: float = typer.Option(0.0, min=0, max=1, help="Fraction of miners sending malformed replies."),
    malformed_kind: str = typer.Option(
        "truncated", help="truncated | garbage | nan | no_status | huge (a reply of 2 MiB)."
    ),
) -> None:
    """Serve SYNTHETIC miners, one loopback address each, on the cgminer RPC port (control API: 127.0.0.1)."""
    from windhash_fleet_sim.fleet import FleetSpec
    from windhash_fleet_sim.server import serve

    if malformed_kind not in ("truncated", "garbage", "nan", "no_status", "huge"):
        raise typer.BadParameter(f"unknown malformed kind {malformed_kind!r}")
    try:
        spec = FleetSpec(
            miners=miners,
            seed=seed,
            base_address=base_address,
            port=port,
            models=tuple(name.strip() for name in models.split(",") if name.strip()),
            serial_prefix=serial_prefix,
            fault_fractions={
                "offline": offline,
                "overheating": overheating,
                "hashrate_drop": hashrate_drop,
                "slow": slow,
                "malformed": malformed,
            },
            slow_s=slow_ms / 1000,
            hashrate_drop=drop_by,
            malformed=malformed_kind,  # type: ignore[arg-type]  # checked above
        )
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None
    typer.echo(
        f"SYNTHETIC fleet: {miners} miners from {base_address}:{port}; "
        f"control API on http://127.0.0.1:{control_port}/_sim/miners",
        err=True,
    )
    serve(spec, control_port=control_port)
