"""`python -m localcloud up --stack local`: see `localcloud.cli`."""

import sys

from localcloud.cli import main

sys.exit(main())
