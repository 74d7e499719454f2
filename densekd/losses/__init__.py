"""Dense KD losses: each a function plus a registered ``nn.Module``."""
from .aux_variable import (AuxVariableKDLoss, aux_variable_terms,  # noqa: F401
                           membership_log_posterior, membership_predictive)
from .affinity import PairwiseAffinityLoss, pairwise_affinity_loss  # noqa: F401
from .cwd import ChannelWiseDivergence, channel_wise_divergence  # noqa: F401
from .dist import DISTLoss, dist_loss  # noqa: F401
from .l1 import L1LogitLoss, l1_logit_loss  # noqa: F401
from .pixel_kd import PixelKDLoss, pixel_kd_loss, pixel_kl  # noqa: F401
from .utils import pixel_entropy  # noqa: F401
from .adversarial import (ActivationLoss, ClassBalanceLoss, DFADGeneratorLoss,  # noqa: F401,E402
                          InformationEntropyLoss, KLAdversarialLoss, OnehotLoss, PatchGANLoss,
                          TeacherEntropyLoss)
from .bn_statistics import BNStatisticsLoss  # noqa: F401,E402
from .augkd import (anchor_loss, encoder_loss, histogram_label_loss,  # noqa: F401,E402
                    pixel_energy)
