"""The `likeness` console command: a thin dispatcher over the subcommands each package owns."""
