__version__ = "0.0.1"

import warnings
# torchvision (imported by fastai) still calls the deprecated `torch.jit.script` at import time on torch 2.14
warnings.filterwarnings('ignore', message='`torch.jit.script` is deprecated', category=FutureWarning)
