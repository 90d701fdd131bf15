"`python -m slowdiff COMMAND …`: the `slowdiff` console script, also what `accelerate launch -m slowdiff train lora` runs."
import sys
from slowdiff.cli import main

sys.exit(main())
