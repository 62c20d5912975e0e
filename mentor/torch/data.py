"""Image datasets read from local files, and their conversion to normalised tensors.

Nothing is downloaded: each loader takes the path of a file already on disk
(see the project's ``shared/data/README.md``), except :func:`load_digits`,
which reads the 8x8 digits that scikit-learn ships.

- :func:`load_fashion_mnist`: an ``.npz`` with keys ``x`` (N, 28, 28 uint8),
  ``y`` (0-9) and ``split`` (``'train'`` / ``'test'``).
- :func:`load_cifar10`: a ``.tar.gz`` of 32x32 JPEG files laid out as
  ``train/<class>/NNNN.jpg`` and ``test/<class>/NNNN.jpg``. Decoded once with
  Pillow and cached as an ``.npz`` keyed by the archive's SHA-256.
- :func:`load_digits`: scikit-learn's digits with a fixed stratified split.

:func:`to_tensors` turns an :class:`ImageData` into float tensors ``[N, C, H, W]``
normalised with the per-channel mean and standard deviation of the train split.
:class:`WithIndices` makes any dataset's items carry their index (for
curriculum feedback).
"""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from mentor._checks import check_unit
from mentor._io import atomic_path
from mentor.errors import DataError

#: Class names of Fashion-MNIST in label order (Xiao, Rasul and Vollgraf 2017).
FASHION_MNIST_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)

_CIFAR_SHAPE = (32, 32, 3)
_CACHE_VERSION = 1


@dataclass(frozen=True)
class ImageData:
    """A labelled image dataset with a fixed train/test split.

    Attributes
    ----------
    x_train, x_test
        uint8 images, ``[N, H, W]`` for one channel or ``[N, H, W, C]`` (RGB).
    y_train, y_test
        int64 labels in ``0 .. len(classes) - 1``.
    classes
        Class names, in label order.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: tuple[str, ...]

    @property
    def num_classes(self) -> int:
        return len(self.classes)


@dataclass(frozen=True)
class TensorData:
    """An :class:`ImageData` as normalised float tensors.

    Attributes
    ----------
    x_train, x_test
        float tensors ``[N, C, H, W]``, ``(x / 255 - mean) / std`` per channel.
    y_train, y_test
        int64 label tensors.
    mean, std
        Per-channel statistics of the train split in [0, 1] units, shape ``[C]``.
    classes
        Class names, in label order.
    """

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    mean: torch.Tensor
    std: torch.Tensor
    classes: tuple[str, ...]


def _check_file(path: str | os.PathLike[str]) -> Path:
    path = Path(path)
    if not path.is_file():
        raise DataError("no such file", file=str(path))
    return path


def load_fashion_mnist(path: str | os.PathLike[str]) -> ImageData:
    """Fashion-MNIST (Xiao, Rasul and Vollgraf 2017) from an ``.npz`` file.

    Parameters
    ----------
    path
        ``.npz`` with ``x`` (N, 28, 28 uint8), ``y`` (labels 0-9) and ``split``
        (``'train'`` or ``'test'`` per image).

    Raises
    ------
    DataError
        If the file is missing, unreadable, lacks a key or has wrong shapes.
    """
    path = _check_file(path)
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in ("x", "y", "split") if key in archive.files}
    except (OSError, ValueError, zlib.error) as error:
        raise DataError(f"not a readable .npz archive ({error})", file=str(path)) from None
    missing = {"x", "y", "split"} - set(arrays)
    if missing:
        raise DataError("missing arrays", file=str(path), value=sorted(missing))
    x, y, split = arrays["x"], arrays["y"], arrays["split"].astype(str)
    if x.ndim != 3 or x.shape[1:] != (28, 28) or x.dtype != np.uint8:
        raise DataError(
            "x must be uint8 images of shape [N, 28, 28]",
            file=str(path),
            field="x",
            value=f"{x.dtype}{list(x.shape)}",
        )
    if y.shape != (len(x),) or split.shape != (len(x),):
        raise DataError("y and split must have one entry per image", file=str(path))
    bad = sorted(set(np.unique(split).tolist()) - {"train", "test"})
    if bad:
        raise DataError(
            "split must be 'train' or 'test'", file=str(path), field="split", value=bad[0]
        )
    y = y.astype(np.int64)
    if y.size and (y.min() < 0 or y.max() >= len(FASHION_MNIST_CLASSES)):
        raise DataError(
            "labels must lie in 0..9",
            file=str(path),
            field="y",
            value=int(y.max() if y.max() >= 10 else y.min()),
        )
    train = split == "train"
    return ImageData(x[train], y[train], x[~train], y[~train], FASHION_MNIST_CLASSES)


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/mentor`` (``~/.cache/mentor`` when the variable is unset)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "mentor"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _decode_cifar_tar(path: Path) -> ImageData:
    from PIL import Image, UnidentifiedImageError

    images: dict[tuple[str, str, str], np.ndarray] = {}
    try:
        with tarfile.open(path, "r:*") as archive:
            for member in archive:
                if not member.isfile():
                    continue
                parts = member.name.strip("./").split("/")
                if len(parts) != 3 or parts[0] not in ("train", "test"):
                    continue
                if not parts[2].lower().endswith((".jpg", ".jpeg", ".png")):
                    continue
                handle = archive.extractfile(member)
                if handle is None:
                    continue
                try:
                    with Image.open(io.BytesIO(handle.read())) as image:
                        pixels = np.asarray(image.convert("RGB"), dtype=np.uint8)
                except (UnidentifiedImageError, OSError) as error:
                    raise DataError(
                        f"cannot decode image ({error})", file=f"{path}:{member.name}"
                    ) from None
                if pixels.shape != _CIFAR_SHAPE:
                    raise DataError(
                        "image must be 32x32 RGB",
                        file=f"{path}:{member.name}",
                        value=list(pixels.shape),
                    )
                images[(parts[0], parts[1], parts[2])] = pixels
    except (tarfile.TarError, EOFError, zlib.error, OSError) as error:
        raise DataError(f"not a readable tar archive ({error})", file=str(path)) from None
    classes = {s: sorted({c for split, c, _ in images if split == s}) for s in ("train", "test")}
    if not classes["train"] or not classes["test"]:
        empty = "train" if not classes["train"] else "test"
        raise DataError(f"no images under {empty}/<class>/", file=str(path))
    if classes["train"] != classes["test"]:
        raise DataError(
            "train and test have different class folders",
            file=str(path),
            value=sorted(set(classes["train"]) ^ set(classes["test"])),
        )
    names = tuple(classes["train"])
    index = {name: i for i, name in enumerate(names)}
    arrays = {}
    for split in ("train", "test"):
        keys = sorted(key for key in images if key[0] == split)
        arrays[split] = (
            np.stack([images[key] for key in keys]),
            np.array([index[key[1]] for key in keys], dtype=np.int64),
        )
    return ImageData(*arrays["train"], *arrays["test"], names)


def load_cifar10(
    path: str | os.PathLike[str], cache_dir: str | os.PathLike[str] | None = None
) -> ImageData:
    """CIFAR-10 (Krizhevsky 2009) from a tarball of JPEG files, cached after the first read.

    Parameters
    ----------
    path
        ``.tar.gz`` with ``train/<class>/*.jpg`` and ``test/<class>/*.jpg``.
        Class order is the sorted folder names.
    cache_dir
        Folder of the decoded ``.npz`` cache (written atomically, named after
        the archive's SHA-256). Default :func:`default_cache_dir`.

    Returns
    -------
    ImageData
        ``x`` as uint8 ``[N, 32, 32, 3]`` (HWC, RGB), images in (class, file name) order.

    Raises
    ------
    DataError
        If the archive is missing or malformed, an image does not decode or is
        not 32x32, or train and test disagree on the classes.
    """
    path = _check_file(path)
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    cached = cache / f"cifar10-v{_CACHE_VERSION}-{_sha256(path)[:16]}.npz"
    if cached.is_file():
        try:
            with np.load(cached, allow_pickle=False) as archive:
                return ImageData(
                    archive["x_train"],
                    archive["y_train"],
                    archive["x_test"],
                    archive["y_test"],
                    tuple(archive["classes"].tolist()),
                )
        except (OSError, ValueError, KeyError, zlib.error):
            pass  # a corrupt cache is rebuilt below
    data = _decode_cifar_tar(path)
    try:
        with atomic_path(cached) as tmp, open(tmp, "wb") as handle:
            np.savez(
                handle,
                x_train=data.x_train,
                y_train=data.y_train,
                x_test=data.x_test,
                y_test=data.y_test,
                classes=np.array(data.classes),
            )
    except OSError:
        pass  # an unwritable cache folder costs a decode next time, nothing more
    return data


def load_digits(test_size: float = 0.3, seed: int = 0) -> ImageData:
    """scikit-learn's 8x8 handwritten digits (1,797 images) with a stratified split.

    Parameters
    ----------
    test_size
        Fraction of images held out for test, in (0, 1). Default 0.3.
    seed
        Seed of the split. Default 0.

    Pixel values 0..16 are scaled to uint8 0..255 (``round(v * 255 / 16)``).
    """
    from sklearn.datasets import load_digits as sk_digits
    from sklearn.model_selection import train_test_split

    test_size = check_unit("test_size", test_size, strict=True, strict_maximum=True)
    bunch = sk_digits()
    x = np.rint(bunch.images * (255.0 / 16.0)).astype(np.uint8)
    y = bunch.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=test_size, stratify=y, random_state=seed
    )
    return ImageData(x_train, y_train, x_test, y_test, tuple(str(c) for c in range(10)))


def to_tensors(
    data: ImageData, device: str | torch.device = "cpu", dtype: torch.dtype = torch.float32
) -> TensorData:
    """Images as ``[N, C, H, W]`` tensors normalised per channel with the train split's
    mean and standard deviation (computed on ``x / 255``).

    Parameters
    ----------
    data
        The dataset.
    device
        Where the tensors live (a torch device or its name).
    dtype
        Floating dtype of the images. Default float32.
    """

    def channels_first(x: np.ndarray) -> np.ndarray:
        return x[:, None] if x.ndim == 3 else np.moveaxis(x, -1, 1)

    train = channels_first(data.x_train).astype(np.float64) / 255.0
    axes = (0, 2, 3)
    mean = train.mean(axis=axes)
    std = train.std(axis=axes)
    std = np.where(std > 0, std, 1.0)

    def convert(x: np.ndarray) -> torch.Tensor:
        scaled = channels_first(x).astype(np.float32) / 255.0
        normed = (scaled - mean[None, :, None, None]) / std[None, :, None, None]
        return torch.as_tensor(np.ascontiguousarray(normed), dtype=dtype, device=device)

    return TensorData(
        convert(data.x_train),
        torch.as_tensor(data.y_train, dtype=torch.int64, device=device),
        convert(data.x_test),
        torch.as_tensor(data.y_test, dtype=torch.int64, device=device),
        torch.as_tensor(mean, dtype=dtype, device=device),
        torch.as_tensor(std, dtype=dtype, device=device),
        data.classes,
    )


class WithIndices(torch.utils.data.Dataset[tuple[Any, ...]]):
    """A map-style dataset whose items carry their index: ``(i, *dataset[i])``
    (``(i, dataset[i])`` when an item is not a tuple).

    With a curriculum sampler, a training loop then knows each batch's indices
    and passes them to the feedback (``hook.step(indices)``), so feedback can
    never be matched with the wrong batch.
    """

    def __init__(self, dataset: torch.utils.data.Dataset[Any]) -> None:
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)  # type: ignore[arg-type]

    def __getitem__(self, index: int) -> tuple[Any, ...]:
        item = self.dataset[index]
        return (index, *item) if isinstance(item, tuple) else (index, item)
