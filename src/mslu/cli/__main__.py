import sys

from mslu.cli import main

sys.exit(main())
