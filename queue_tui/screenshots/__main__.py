import sys

from queue_tui.screenshots.render import main

sys.exit(main())
