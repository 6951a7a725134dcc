"""Model zoos: our own format, generators, downloads and readers of the public formats."""

from scalegmn.zoo.format import ZOO_KIND, iter_zoo, read_info, save_zoo
from scalegmn.zoo.inr_readers import read_dws_inrs, read_nfn_cifar_inrs
from scalegmn.zoo.load import detect_format, load_networks, merge_zoos, zoo_info
from scalegmn.zoo.small_cnn_zoo import export_small_cnn_zoo, read_small_cnn_zoo

__all__ = ["ZOO_KIND", "detect_format", "export_small_cnn_zoo", "iter_zoo", "load_networks", "merge_zoos",
           "read_dws_inrs", "read_info", "read_nfn_cifar_inrs", "read_small_cnn_zoo", "save_zoo", "zoo_info"]
