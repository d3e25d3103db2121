import sys

from archpred.cli import main

sys.exit(main())
