__version__ = "0.0.1"

import warnings
# torchvision (imported by fastai) still calls the deprecated `torch.jit.script` at import time on torch 2.14
warnings.filterwarnings('ignore', message='`torch.jit.script` is deprecated', category=FutureWarning)
# huggingface_hub warns that diffusers passes its deprecated `local_dir_use_symlinks` argument (a hub lookup that fails)
warnings.filterwarnings('ignore', message='The `local_dir_use_symlinks` argument is deprecated', category=UserWarning)
