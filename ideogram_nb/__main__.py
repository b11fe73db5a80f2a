"""`python -m ideogram_nb history list|show|export` (also installed as `ideogram-nb`)."""

from ideogram_nb._cli import main

if __name__ == "__main__":
    raise SystemExit(main())
