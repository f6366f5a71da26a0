"""Keras 2's ``keras.preprocessing.image``: random augmentation of image batches (``ImageDataGenerator``:
rotations, shifts, shear, zoom, flips, channel and brightness shifts, rescaling, feature-wise and
sample-wise normalization, ZCA whitening), batches from arrays (``flow``) and from a directory of class
folders (``flow_from_directory``), and image files to arrays and back.

The geometric transforms are one affine map each, applied by ``scipy.ndimage.affine_transform``; the
random draws are made in Keras 2's order from NumPy's global generator, so a seed gives Keras 2's
transforms.  Reading and writing image files, and brightness shifts, need Pillow (``pip install
'symkeras[image]'``).
"""

from __future__ import annotations

import os
import threading
import warnings

import numpy as np
from scipy import linalg, ndimage

from symkeras import config
from symkeras.utils.data_utils import Sequence

#: the file types flow_from_directory reads
IMAGE_FORMATS = ("png", "jpg", "jpeg", "bmp", "ppm", "tif", "tiff")


def _pil():
    try:
        from PIL import Image, ImageEnhance
    except ImportError as error:
        raise ImportError("Reading, writing and brightness-shifting images needs Pillow: pip install "
                          "'symkeras[image]' (or pip install Pillow).") from error
    return Image, ImageEnhance


# affine transforms -------------------------------------------------------------------------------------------

def transform_matrix_offset_center(matrix, x, y):
    """``matrix`` (3 x 3, homogeneous) made to act about the centre of an ``x`` by ``y`` image (pixel
    centres at integers: the centre is at (x - 1) / 2, (y - 1) / 2, as tf-keras has it)."""
    ox, oy = float(x) / 2 - 0.5, float(y) / 2 - 0.5
    to_centre = np.array([[1, 0, ox], [0, 1, oy], [0, 0, 1]])
    from_centre = np.array([[1, 0, -ox], [0, 1, -oy], [0, 0, 1]])
    return to_centre @ matrix @ from_centre


def apply_affine_transform(x, theta=0, tx=0, ty=0, shear=0, zx=1, zy=1, row_axis=1, col_axis=2, channel_axis=0,
                           fill_mode="nearest", cval=0.0, order=1):
    """One image (3-D) rotated by ``theta`` degrees, shifted by (tx, ty) pixels (along rows, columns),
    sheared by ``shear`` degrees and zoomed by (zx, zy), about its centre.

    Args:
        x: the image, a 3-D array.
        row_axis, col_axis, channel_axis: x's axes (channels first unless given, as tf-keras has them).
        fill_mode: how points outside the image are filled: ``'constant'``, ``'nearest'``, ``'reflect'``
            or ``'wrap'`` (scipy.ndimage's modes).
        cval: the value of ``'constant'``.
        order: the spline interpolation's order (0 nearest, 1 bilinear).

    Returns:
        The transformed image (x itself when every parameter is neutral).

    Raises:
        ValueError: x is not 3-D, or the axes are not 0, 1 and 2 with the channels first or last.
    """
    if sorted((row_axis, col_axis, channel_axis)) != [0, 1, 2]:
        raise ValueError(f"'row_axis', 'col_axis', and 'channel_axis' must be 0, 1 and 2 in some order; got "
                         f"{row_axis}, {col_axis} and {channel_axis}")
    if np.ndim(x) != 3:
        raise ValueError(f"Input arrays must be multi-channel 2D images; got an array of shape {np.shape(x)}")
    if channel_axis not in (0, 2):
        raise ValueError("Channels are allowed and the first and last dimensions.")
    matrices = []
    if theta != 0:
        a = np.deg2rad(theta)
        matrices.append(np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]]))
    if tx != 0 or ty != 0:
        matrices.append(np.array([[1, 0, tx], [0, 1, ty], [0, 0, 1]]))
    if shear != 0:
        a = np.deg2rad(shear)
        matrices.append(np.array([[1, -np.sin(a), 0], [0, np.cos(a), 0], [0, 0, 1]]))
    if zx != 1 or zy != 1:
        matrices.append(np.array([[zx, 0, 0], [0, zy, 0], [0, 0, 1]]))
    if not matrices:
        return x
    matrix = matrices[0]
    for m in matrices[1:]:
        matrix = matrix @ m
    matrix = transform_matrix_offset_center(matrix, x.shape[row_axis], x.shape[col_axis])
    if col_axis > row_axis:
        # the matrices are in (x, y) = (column, row) terms; the array's axes are (row, column): P M P
        matrix[:, [0, 1]] = matrix[:, [1, 0]]
        matrix[[0, 1]] = matrix[[1, 0]]
    channels = np.rollaxis(x, channel_axis, 0)
    moved = [ndimage.affine_transform(c, matrix[:2, :2], matrix[:2, 2], order=order, mode=fill_mode, cval=cval)
             for c in channels]
    return np.rollaxis(np.stack(moved, axis=0), 0, channel_axis + 1)


def flip_axis(x, axis):
    """``x`` reversed along ``axis``."""
    return np.asarray(x).swapaxes(axis, 0)[::-1, ...].swapaxes(0, axis)


def apply_channel_shift(x, intensity, channel_axis=0):
    """Every channel of ``x`` shifted by ``intensity``, clipped to the image's own value range."""
    x = np.rollaxis(x, channel_axis, 0)
    low, high = np.min(x), np.max(x)
    x = np.stack([np.clip(c + intensity, low, high) for c in x], axis=0)
    return np.rollaxis(x, 0, channel_axis + 1)


def apply_brightness_shift(x, brightness):
    """``x``'s brightness scaled by ``brightness`` (1 leaves it), through Pillow's ImageEnhance, then back to
    the original value range."""
    _, enhance = _pil()
    low, high = np.min(x), np.max(x)
    image = enhance.Brightness(array_to_img(x)).enhance(brightness)
    x = img_to_array(image)
    return low + (high - low) * x / 255.0 if high > low else x


def _uniform_or_zero(spread):
    return np.random.uniform(-spread, spread) if spread else 0


def random_rotation(x, rg, row_axis=1, col_axis=2, channel_axis=0, fill_mode="nearest", cval=0.0,
                    interpolation_order=1):
    """``x`` rotated by a uniform random angle in [-rg, rg] degrees."""
    return apply_affine_transform(x, theta=np.random.uniform(-rg, rg), row_axis=row_axis, col_axis=col_axis,
                                  channel_axis=channel_axis, fill_mode=fill_mode, cval=cval, order=interpolation_order)


def random_shift(x, wrg, hrg, row_axis=1, col_axis=2, channel_axis=0, fill_mode="nearest", cval=0.0,
                 interpolation_order=1):
    """``x`` shifted by uniform random fractions of its height (``hrg``) and width (``wrg``)."""
    h, w = x.shape[row_axis], x.shape[col_axis]
    tx, ty = np.random.uniform(-hrg, hrg) * h, np.random.uniform(-wrg, wrg) * w
    return apply_affine_transform(x, tx=tx, ty=ty, row_axis=row_axis, col_axis=col_axis, channel_axis=channel_axis,
                                  fill_mode=fill_mode, cval=cval, order=interpolation_order)


def random_shear(x, intensity, row_axis=1, col_axis=2, channel_axis=0, fill_mode="nearest", cval=0.0,
                 interpolation_order=1):
    """``x`` sheared by a uniform random angle in [-intensity, intensity] degrees."""
    return apply_affine_transform(x, shear=np.random.uniform(-intensity, intensity), row_axis=row_axis,
                                  col_axis=col_axis, channel_axis=channel_axis, fill_mode=fill_mode, cval=cval,
                                  order=interpolation_order)


def random_zoom(x, zoom_range, row_axis=1, col_axis=2, channel_axis=0, fill_mode="nearest", cval=0.0,
                interpolation_order=1):
    """``x`` zoomed by uniform random factors in ``zoom_range`` (two numbers) along rows and columns.

    Raises:
        ValueError: ``zoom_range`` is not two numbers.
    """
    if len(zoom_range) != 2:
        raise ValueError(f"`zoom_range` should be a tuple or list of two floats. Received: {zoom_range}")
    zx, zy = (1, 1) if zoom_range[0] == 1 and zoom_range[1] == 1 else np.random.uniform(*zoom_range, 2)
    return apply_affine_transform(x, zx=zx, zy=zy, row_axis=row_axis, col_axis=col_axis, channel_axis=channel_axis,
                                  fill_mode=fill_mode, cval=cval, order=interpolation_order)


def random_channel_shift(x, intensity_range, channel_axis=0):
    """``x``'s channels shifted by one uniform random intensity in [-range, range]."""
    return apply_channel_shift(x, np.random.uniform(-intensity_range, intensity_range), channel_axis)


def random_brightness(x, brightness_range):
    """``x``'s brightness scaled by a uniform random factor in ``brightness_range`` (two numbers)."""
    if len(brightness_range) != 2:
        raise ValueError(f"`brightness_range should be tuple or list of two floats. Received: {brightness_range}")
    return apply_brightness_shift(x, np.random.uniform(brightness_range[0], brightness_range[1]))


# image files --------------------------------------------------------------------------------------------------

def _format(data_format):
    data_format = data_format or config.image_data_format()
    if data_format not in ("channels_first", "channels_last"):
        raise ValueError(f"Invalid data_format: {data_format}")
    return data_format


def array_to_img(x, data_format=None, scale=True, dtype=None):
    """A 3-D array (one image) as a Pillow image: 1 channel grey, 3 RGB, 4 RGBA; scaled to 0-255 first
    (``scale``: its minimum to 0, its maximum to 255).

    Raises:
        ValueError: the array is not 3-D or has another number of channels.
    """
    image_module, _ = _pil()
    x = np.asarray(x, dtype=dtype or config.floatx())
    if x.ndim != 3:
        raise ValueError(f"Expected image array to have rank 3 (single image). Got array with shape: {x.shape}")
    if _format(data_format) == "channels_first":
        x = x.transpose(1, 2, 0)
    if scale:
        x = x - np.min(x)
        top = np.max(x)
        if top != 0:
            x = x / top
        x = x * 255
    channels = x.shape[2]
    if channels == 4:
        return image_module.fromarray(x.astype("uint8"), "RGBA")
    if channels == 3:
        return image_module.fromarray(x.astype("uint8"), "RGB")
    if channels == 1:
        if np.max(x) > 255:  # (a 16- or 32-bit grey image)
            return image_module.fromarray(x[:, :, 0].astype("int32"), "I")
        return image_module.fromarray(x[:, :, 0].astype("uint8"), "L")
    raise ValueError(f"Unsupported channel number: {channels}")


def img_to_array(img, data_format=None, dtype=None):
    """A Pillow image as a 3-D array (height, width, channels) or (channels, height, width)."""
    x = np.asarray(img, dtype=dtype or config.floatx())
    if x.ndim == 2:
        x = x[:, :, np.newaxis]
    elif x.ndim != 3:
        raise ValueError(f"Unsupported image shape: {x.shape}")
    return x.transpose(2, 0, 1) if _format(data_format) == "channels_first" else x


def save_img(path, x, data_format=None, file_format=None, scale=True, **kwargs):
    """Write a 3-D array as an image file (its type from ``file_format`` or the file name)."""
    image = array_to_img(x, data_format=data_format, scale=scale)
    if image.mode == "RGBA" and (file_format == "jpg" or str(path).lower().endswith((".jpg", ".jpeg"))):
        warnings.warn("The JPG format does not support RGBA images, converting to RGB.", stacklevel=2)
        image = image.convert("RGB")
    image.save(path, format=file_format, **kwargs)


_RESAMPLING = {"nearest": "NEAREST", "bilinear": "BILINEAR", "bicubic": "BICUBIC", "lanczos": "LANCZOS",
               "box": "BOX", "hamming": "HAMMING"}


def load_img(path, grayscale=False, color_mode="rgb", target_size=None, interpolation="nearest"):
    """An image file as a Pillow image.

    Args:
        path: the file.
        grayscale: Keras 1's switch for ``color_mode='grayscale'``.
        color_mode: ``'grayscale'``, ``'rgb'`` or ``'rgba'``.
        target_size: ``(height, width)`` to resize to, or None.
        interpolation: the resize's filter: ``'nearest'``, ``'bilinear'``, ``'bicubic'``, ``'lanczos'``,
            ``'box'`` or ``'hamming'``.

    Raises:
        ValueError: an unknown color mode or interpolation.
    """
    image_module, _ = _pil()
    if grayscale:
        warnings.warn("grayscale is deprecated. Please use color_mode = 'grayscale'", stacklevel=2)
        color_mode = "grayscale"
    modes = {"grayscale": ("L", "I;16", "I"), "rgba": ("RGBA",), "rgb": ("RGB",)}
    if color_mode not in modes:
        raise ValueError('color_mode must be "grayscale", "rgb", or "rgba"')
    with open(path, "rb") as fh:
        image = image_module.open(fh)
        image.load()
    if image.mode not in modes[color_mode]:
        image = image.convert(modes[color_mode][0])
    if target_size is not None:
        size = (target_size[1], target_size[0])
        if image.size != size:
            if interpolation not in _RESAMPLING:
                raise ValueError(f"Invalid interpolation method {interpolation} specified. Supported methods are "
                                 f"{', '.join(_RESAMPLING)}")
            image = image.resize(size, getattr(image_module.Resampling, _RESAMPLING[interpolation]))
    return image


# batches ------------------------------------------------------------------------------------------------------

class Iterator(Sequence):
    """Batches of ``batch_size`` of ``n`` samples, in a new random order each epoch (``shuffle``), as a
    Sequence (``len``, ``[i]``) and as an endless iterator (``next``).  Subclasses make the batch of an
    array of sample indices (``_get_batches_of_transformed_samples``)."""

    def __init__(self, n, batch_size, shuffle, seed):
        self.n, self.batch_size, self.shuffle, self.seed = n, batch_size, shuffle, seed
        self.batch_index = 0
        self.total_batches_seen = 0
        self.lock = threading.Lock()
        self.index_array = None
        self.index_generator = self._flow_index()

    def _set_index_array(self):
        self.index_array = np.random.permutation(self.n) if self.shuffle else np.arange(self.n)

    def __getitem__(self, idx):
        if idx >= len(self):
            raise ValueError(f"Asked to retrieve element {idx}, but the Sequence has length {len(self)}")
        if self.seed is not None:
            np.random.seed(self.seed + self.total_batches_seen)
        self.total_batches_seen += 1
        if self.index_array is None:
            self._set_index_array()
        return self._get_batches_of_transformed_samples(self.index_array[self.batch_size * idx:
                                                                         self.batch_size * (idx + 1)])

    def __len__(self):
        return (self.n + self.batch_size - 1) // self.batch_size

    def on_epoch_end(self):
        self._set_index_array()

    def reset(self):
        self.batch_index = 0

    def _flow_index(self):
        self.reset()
        while True:
            if self.seed is not None:
                np.random.seed(self.seed + self.total_batches_seen)
            if self.batch_index == 0:
                self._set_index_array()
            if self.n == 0:
                current = 0
            else:
                current = (self.batch_index * self.batch_size) % self.n
            if self.n > current + self.batch_size:
                self.batch_index += 1
            else:
                self.batch_index = 0
            self.total_batches_seen += 1
            yield self.index_array[current:current + self.batch_size]

    def __iter__(self):
        return self

    def __next__(self):
        with self.lock:
            index_array = next(self.index_generator)
        return self._get_batches_of_transformed_samples(index_array)

    next = __next__

    def _get_batches_of_transformed_samples(self, index_array):
        raise NotImplementedError(f"{type(self).__name__} must define _get_batches_of_transformed_samples")


def _split(n, validation_split, subset):
    """The sample range of ``subset`` (None, 'training' or 'validation')."""
    if subset is None:
        return 0, n
    if subset not in ("training", "validation"):
        raise ValueError(f"Invalid subset name: {subset}; expected 'training' or 'validation'")
    cut = int(n * validation_split)
    return (0, cut) if subset == "validation" else (cut, n)


class NumpyArrayIterator(Iterator):
    """Batches of images from an array (transformed and standardized by ``image_data_generator``), with
    their labels and sample weights when given.

    Raises:
        ValueError: x is not 4-D, or x, y and sample_weight differ in length.
    """

    def __init__(self, x, y, image_data_generator, batch_size=32, shuffle=False, sample_weight=None, seed=None,
                 data_format=None, save_to_dir=None, save_prefix="", save_format="png", subset=None,
                 dtype=None):
        dtype = dtype or config.floatx()
        self.dtype = dtype
        if isinstance(x, (tuple, list)):
            x, self.x_misc = x[0], [np.asarray(xx) for xx in x[1:]]
        else:
            self.x_misc = []
        if y is not None and len(x) != len(y):
            raise ValueError(f"`x` (images tensor) and `y` (labels) should have the same length. Found: "
                             f"x.shape = {np.asarray(x).shape}, y.shape = {np.asarray(y).shape}")
        if sample_weight is not None and len(x) != len(sample_weight):
            raise ValueError(f"`x` (images tensor) and `sample_weight` should have the same length. Found: "
                             f"x.shape = {np.asarray(x).shape}, sample_weight.shape = "
                             f"{np.asarray(sample_weight).shape}")
        start, stop = _split(len(x), image_data_generator._validation_split, subset)
        self.x = np.asarray(x[start:stop], dtype=dtype)
        self.x_misc = [xx[start:stop] for xx in self.x_misc]
        if self.x.ndim != 4:
            raise ValueError(f"Input data in `NumpyArrayIterator` should have rank 4. You passed an array with "
                             f"shape {self.x.shape}")
        channels_axis = 3 if _format(data_format) == "channels_last" else 1
        if self.x.shape[channels_axis] not in {1, 3, 4}:
            warnings.warn(f"NumpyArrayIterator is set to use the data format convention {data_format} (channels on "
                          f"axis {channels_axis}), i.e. expected either 1, 3, or 4 channels on axis "
                          f"{channels_axis}. However, it was passed an array with shape {self.x.shape} "
                          f"({self.x.shape[channels_axis]} channels).", stacklevel=2)
        self.y = None if y is None else np.asarray(y)[start:stop]
        self.sample_weight = None if sample_weight is None else np.asarray(sample_weight)[start:stop]
        self.image_data_generator = image_data_generator
        self.data_format = _format(data_format)
        self.save_to_dir, self.save_prefix, self.save_format = save_to_dir, save_prefix, save_format
        super().__init__(self.x.shape[0], batch_size, shuffle, seed)

    def _get_batches_of_transformed_samples(self, index_array):
        batch = np.zeros((len(index_array),) + self.x.shape[1:], dtype=self.dtype)
        for i, j in enumerate(index_array):
            x = self.x[j]
            params = self.image_data_generator.get_random_transform(x.shape)
            x = self.image_data_generator.apply_transform(x.astype(self.dtype), params)
            batch[i] = self.image_data_generator.standardize(x)
        if self.save_to_dir:
            _save_batch(batch, index_array, self.save_to_dir, self.save_prefix, self.save_format, self.data_format)
        inputs = [batch] + [xx[index_array] for xx in self.x_misc]
        output = (inputs[0] if len(inputs) == 1 else inputs,)
        if self.y is None:
            return output[0]
        output += (self.y[index_array],)
        if self.sample_weight is not None:
            output += (self.sample_weight[index_array],)
        return output


def _save_batch(batch, index_array, directory, prefix, file_format, data_format):
    for i, j in enumerate(index_array):
        name = f"{prefix}_{j}_{np.random.randint(10000)}.{file_format}"
        save_img(os.path.join(directory, name), batch[i], data_format=data_format, scale=True)


class DirectoryIterator(Iterator):
    """Batches of images read from ``directory``'s class folders (one folder a class, in sorted order
    unless ``classes`` names them), transformed and standardized by ``image_data_generator``.

    Args:
        class_mode: ``'categorical'`` (one-hot labels), ``'binary'``, ``'sparse'`` (class numbers),
            ``'input'`` (the images themselves) or None (no labels).

    Raises:
        ValueError: an unknown color mode or class mode.
    """

    def __init__(self, directory, image_data_generator, target_size=(256, 256), color_mode="rgb", classes=None,
                 class_mode="categorical", batch_size=32, shuffle=True, seed=None, data_format=None,
                 save_to_dir=None, save_prefix="", save_format="png", follow_links=False, subset=None,
                 interpolation="nearest", dtype=None):
        if color_mode not in ("rgb", "rgba", "grayscale"):
            raise ValueError(f"Invalid color mode: {color_mode}; expected \"rgb\", \"rgba\", or \"grayscale\".")
        if class_mode not in ("categorical", "binary", "sparse", "input", None):
            raise ValueError(f"Invalid class_mode: {class_mode}; expected one of \"categorical\", \"binary\", "
                             "\"sparse\", \"input\" or None.")
        self.directory, self.image_data_generator = directory, image_data_generator
        self.target_size, self.color_mode, self.class_mode = tuple(target_size), color_mode, class_mode
        self.data_format = _format(data_format)
        self.dtype = dtype or config.floatx()
        self.interpolation = interpolation
        self.save_to_dir, self.save_prefix, self.save_format = save_to_dir, save_prefix, save_format
        channels = {"rgba": 4, "rgb": 3, "grayscale": 1}[color_mode]
        self.image_shape = (self.target_size + (channels,) if self.data_format == "channels_last"
                            else (channels,) + self.target_size)
        if not classes:
            classes = sorted(d for d in os.listdir(directory) if os.path.isdir(os.path.join(directory, d)))
        self.class_indices = {name: k for k, name in enumerate(classes)}
        self.num_classes = len(classes)
        filenames, labels = [], []
        for name in classes:
            found = sorted(_image_files(os.path.join(directory, name), follow_links))
            start, stop = _split(len(found), image_data_generator._validation_split, subset)
            for path in found[start:stop]:
                filenames.append(os.path.relpath(path, directory))
                labels.append(self.class_indices[name])
        self.filenames = filenames
        self.filepaths = [os.path.join(directory, f) for f in filenames]
        self.classes = np.array(labels, dtype="int32")
        self.samples = len(filenames)
        print(f"Found {self.samples} images belonging to {self.num_classes} classes.")
        super().__init__(self.samples, batch_size, shuffle, seed)

    @property
    def labels(self):
        return self.classes

    def _get_batches_of_transformed_samples(self, index_array):
        batch = np.zeros((len(index_array),) + self.image_shape, dtype=self.dtype)
        for i, j in enumerate(index_array):
            image = load_img(self.filepaths[j], color_mode=self.color_mode, target_size=self.target_size,
                             interpolation=self.interpolation)
            x = img_to_array(image, data_format=self.data_format, dtype=self.dtype)
            image.close()
            params = self.image_data_generator.get_random_transform(x.shape)
            x = self.image_data_generator.apply_transform(x, params)
            batch[i] = self.image_data_generator.standardize(x)
        if self.save_to_dir:
            _save_batch(batch, index_array, self.save_to_dir, self.save_prefix, self.save_format, self.data_format)
        if self.class_mode == "input":
            return batch, batch.copy()
        if self.class_mode == "sparse":
            return batch, self.classes[index_array]
        if self.class_mode == "binary":
            return batch, self.classes[index_array].astype(self.dtype)
        if self.class_mode == "categorical":
            labels = np.zeros((len(batch), self.num_classes), dtype=self.dtype)
            labels[np.arange(len(batch)), self.classes[index_array]] = 1.0
            return batch, labels
        return batch


def _image_files(folder, follow_links):
    for root, _, files in os.walk(folder, followlinks=follow_links):
        for name in files:
            if name.lower().rsplit(".", 1)[-1] in IMAGE_FORMATS:
                yield os.path.join(root, name)


# the generator ------------------------------------------------------------------------------------------------

class ImageDataGenerator:
    """Batches of images augmented at random, as Keras 2's ``ImageDataGenerator``.

    Args:
        featurewise_center, featurewise_std_normalization: subtract the data set's mean, divide by its
            standard deviation, per channel (``fit`` computes them).
        samplewise_center, samplewise_std_normalization: the same per image.
        zca_whitening, zca_epsilon: ZCA whitening (``fit`` computes its matrix).
        rotation_range: degrees of random rotation.
        width_shift_range, height_shift_range: random shifts: a fraction of the size (below 1), pixels (1 or
            more), or a list of allowed values.
        brightness_range: two numbers: the range of the random brightness factor.
        shear_range: degrees of random shear.
        zoom_range: a number z (the range [1 - z, 1 + z]) or two numbers.
        channel_shift_range: the range of a random shift of every channel.
        fill_mode, cval: how points outside the image are filled (see ``apply_affine_transform``).
        horizontal_flip, vertical_flip: flip at random (half the images).
        rescale: a factor multiplying the data before everything else (1/255, say).
        preprocessing_function: a function of an image to an image of the same shape, run first.
        data_format: ``'channels_last'`` or ``'channels_first'`` (the configured one unless given).
        validation_split: the fraction kept for ``subset='validation'``.
        interpolation_order: the spline order of the affine transforms.
        dtype: the batches' dtype.

    Raises:
        ValueError: a data format, zoom range or validation split that is not one of the above.
    """

    def __init__(self, featurewise_center=False, samplewise_center=False, featurewise_std_normalization=False,
                 samplewise_std_normalization=False, zca_whitening=False, zca_epsilon=1e-6, rotation_range=0,
                 width_shift_range=0.0, height_shift_range=0.0, brightness_range=None, shear_range=0.0,
                 zoom_range=0.0, channel_shift_range=0.0, fill_mode="nearest", cval=0.0, horizontal_flip=False,
                 vertical_flip=False, rescale=None, preprocessing_function=None, data_format=None,
                 validation_split=0.0, interpolation_order=1, dtype=None):
        self.featurewise_center, self.samplewise_center = featurewise_center, samplewise_center
        self.featurewise_std_normalization = featurewise_std_normalization
        self.samplewise_std_normalization = samplewise_std_normalization
        self.zca_whitening, self.zca_epsilon = zca_whitening, zca_epsilon
        self.rotation_range = rotation_range
        self.width_shift_range, self.height_shift_range = width_shift_range, height_shift_range
        self.shear_range, self.channel_shift_range = shear_range, channel_shift_range
        self.fill_mode, self.cval = fill_mode, cval
        self.horizontal_flip, self.vertical_flip = horizontal_flip, vertical_flip
        self.rescale, self.preprocessing_function = rescale, preprocessing_function
        self.interpolation_order = interpolation_order
        self.dtype = dtype or config.floatx()
        self.data_format = _format(data_format)
        last = self.data_format == "channels_last"
        self.channel_axis, self.row_axis, self.col_axis = (3, 1, 2) if last else (1, 2, 3)
        if not 0 <= validation_split < 1:
            raise ValueError(f"`validation_split` must be strictly between 0 and 1. Received: {validation_split}")
        self._validation_split = validation_split
        self.mean = self.std = self.zca_whitening_matrix = None
        if np.isscalar(zoom_range):
            self.zoom_range = [1 - zoom_range, 1 + zoom_range]
        elif len(zoom_range) == 2:
            self.zoom_range = [zoom_range[0], zoom_range[1]]
        else:
            raise ValueError(f"`zoom_range` should be a float or a tuple or list of two floats. Received: {zoom_range}")
        if zca_whitening:  # (whitening centres, and makes the variances 1 itself)
            if not featurewise_center:
                self.featurewise_center = True
                warnings.warn("This ImageDataGenerator specifies `zca_whitening`, which overrides setting of "
                              "`featurewise_center`.", stacklevel=2)
            if featurewise_std_normalization:
                self.featurewise_std_normalization = False
                warnings.warn("This ImageDataGenerator specifies `zca_whitening`, which overrides setting of "
                              "`featurewise_std_normalization`.", stacklevel=2)
        if featurewise_std_normalization and not featurewise_center:
            self.featurewise_center = True
            warnings.warn("This ImageDataGenerator specifies `featurewise_std_normalization`, which overrides "
                          "setting of `featurewise_center`.", stacklevel=2)
        if samplewise_std_normalization and not samplewise_center:
            self.samplewise_center = True
            warnings.warn("This ImageDataGenerator specifies `samplewise_std_normalization`, which overrides "
                          "setting of `samplewise_center`.", stacklevel=2)
        if brightness_range is not None and (np.isscalar(brightness_range) or len(brightness_range) != 2):
            raise ValueError(f"`brightness_range should be tuple or list of two floats. Received: {brightness_range}")
        self.brightness_range = brightness_range

    def flow(self, x, y=None, batch_size=32, shuffle=True, sample_weight=None, seed=None, save_to_dir=None,
             save_prefix="", save_format="png", subset=None):
        """Batches of ``x`` (4-D images; or a list: the images and other inputs), augmented, with ``y``."""
        return NumpyArrayIterator(x, y, self, batch_size=batch_size, shuffle=shuffle, sample_weight=sample_weight,
                                  seed=seed, data_format=self.data_format, save_to_dir=save_to_dir,
                                  save_prefix=save_prefix, save_format=save_format, subset=subset, dtype=self.dtype)

    def flow_from_directory(self, directory, target_size=(256, 256), color_mode="rgb", classes=None,
                            class_mode="categorical", batch_size=32, shuffle=True, seed=None, save_to_dir=None,
                            save_prefix="", save_format="png", follow_links=False, subset=None,
                            interpolation="nearest"):
        """Batches of the images in ``directory``'s class folders, augmented (see ``DirectoryIterator``)."""
        return DirectoryIterator(directory, self, target_size=target_size, color_mode=color_mode, classes=classes,
                                 class_mode=class_mode, batch_size=batch_size, shuffle=shuffle, seed=seed,
                                 data_format=self.data_format, save_to_dir=save_to_dir, save_prefix=save_prefix,
                                 save_format=save_format, follow_links=follow_links, subset=subset,
                                 interpolation=interpolation, dtype=self.dtype)

    def standardize(self, x):
        """``x`` (one image or a batch) with the normalizations applied, in place where it can be."""
        if self.preprocessing_function:
            x = self.preprocessing_function(x)
        if self.rescale:
            x *= self.rescale
        if self.samplewise_center:
            x -= np.mean(x, keepdims=True)
        if self.samplewise_std_normalization:
            x /= np.std(x, keepdims=True) + 1e-6
        if self.featurewise_center:
            if self.mean is None:
                warnings.warn("This ImageDataGenerator specifies `featurewise_center`, but it hasn't been fit on "
                              "any training data. Fit it first by calling `.fit(numpy_data)`.", stacklevel=2)
            else:
                x -= self.mean
        if self.featurewise_std_normalization:
            if self.std is None:
                warnings.warn("This ImageDataGenerator specifies `featurewise_std_normalization`, but it hasn't "
                              "been fit on any training data. Fit it first by calling `.fit(numpy_data)`.",
                              stacklevel=2)
            else:
                x /= self.std + 1e-6
        if self.zca_whitening:
            if self.zca_whitening_matrix is None:
                warnings.warn("This ImageDataGenerator specifies `zca_whitening`, but it hasn't been fit on any "
                              "training data. Fit it first by calling `.fit(numpy_data)`.", stacklevel=2)
            else:
                flat = np.reshape(x, (-1, int(np.prod(x.shape[-3:]))))
                x = np.reshape(flat @ self.zca_whitening_matrix, x.shape)
        return x

    def _shift(self, spread, size):
        if not spread:
            return 0
        try:  # a list of allowed values, each either way
            shift = np.random.choice(spread) * np.random.choice([-1, 1])
        except ValueError:
            shift = np.random.uniform(-spread, spread)
        return shift * size if np.max(spread) < 1 else shift

    def get_random_transform(self, img_shape, seed=None):
        """A random transform's parameters for an image of ``img_shape`` (3-D), drawn in Keras 2's order."""
        if seed is not None:
            np.random.seed(seed)
        theta = _uniform_or_zero(self.rotation_range)
        tx = self._shift(self.height_shift_range, img_shape[self.row_axis - 1])
        ty = self._shift(self.width_shift_range, img_shape[self.col_axis - 1])
        shear = _uniform_or_zero(self.shear_range)
        if self.zoom_range[0] == 1 and self.zoom_range[1] == 1:
            zx, zy = 1, 1
        else:
            zx, zy = np.random.uniform(self.zoom_range[0], self.zoom_range[1], 2)
        flip_horizontal = (np.random.random() < 0.5) * self.horizontal_flip
        flip_vertical = (np.random.random() < 0.5) * self.vertical_flip
        channel_shift = None
        if self.channel_shift_range != 0:
            channel_shift = np.random.uniform(-self.channel_shift_range, self.channel_shift_range)
        brightness = None
        if self.brightness_range is not None:
            brightness = np.random.uniform(self.brightness_range[0], self.brightness_range[1])
        return {"theta": theta, "tx": tx, "ty": ty, "shear": shear, "zx": zx, "zy": zy,
                "flip_horizontal": flip_horizontal, "flip_vertical": flip_vertical,
                "channel_shift_intensity": channel_shift, "brightness": brightness}

    def apply_transform(self, x, transform_parameters):
        """One image (3-D) transformed by ``transform_parameters`` (``get_random_transform``'s keys; missing
        ones are neutral)."""
        rows, cols, channels = self.row_axis - 1, self.col_axis - 1, self.channel_axis - 1
        p = transform_parameters
        x = apply_affine_transform(x, p.get("theta", 0), p.get("tx", 0), p.get("ty", 0), p.get("shear", 0),
                                   p.get("zx", 1), p.get("zy", 1), row_axis=rows, col_axis=cols,
                                   channel_axis=channels, fill_mode=self.fill_mode, cval=self.cval,
                                   order=self.interpolation_order)
        if p.get("channel_shift_intensity") is not None:
            x = apply_channel_shift(x, p["channel_shift_intensity"], channels)
        if p.get("flip_horizontal", False):
            x = flip_axis(x, cols)
        if p.get("flip_vertical", False):
            x = flip_axis(x, rows)
        if p.get("brightness") is not None:
            x = apply_brightness_shift(x, p["brightness"])
        return x

    def random_transform(self, x, seed=None):
        """One image (3-D) randomly transformed."""
        return self.apply_transform(x, self.get_random_transform(x.shape, seed))

    def fit(self, x, augment=False, rounds=1, seed=None):
        """The data set's statistics for feature-wise normalization and ZCA whitening.

        Args:
            x: 4-D images.
            augment: fit on ``rounds`` randomly transformed copies of the data.
            seed: the transforms' seed.

        Raises:
            ValueError: x is not 4-D.
        """
        x = np.asarray(x, dtype=self.dtype)
        if x.ndim != 4:
            raise ValueError(f"Input to `.fit()` should have rank 4. Got array with shape: {x.shape}")
        if x.shape[self.channel_axis] not in {1, 3, 4}:
            warnings.warn(f"Expected input to be images (as Numpy array) following the data format convention "
                          f"\"{self.data_format}\" (channels on axis {self.channel_axis}), i.e. expected either 1, 3 "
                          f"or 4 channels on axis {self.channel_axis}. However, it was passed an array with shape "
                          f"{x.shape} ({x.shape[self.channel_axis]} channels).", stacklevel=2)
        if seed is not None:
            np.random.seed(seed)
        x = np.copy(x)
        if self.rescale:
            x *= self.rescale
        if augment:
            copies = np.zeros((rounds * x.shape[0],) + x.shape[1:], dtype=self.dtype)
            for r in range(rounds):
                for i in range(x.shape[0]):
                    copies[i + r * x.shape[0]] = self.random_transform(x[i])
            x = copies
        shape = [1, 1, 1]
        shape[self.channel_axis - 1] = x.shape[self.channel_axis]
        axes = (0, self.row_axis, self.col_axis)
        if self.featurewise_center:
            self.mean = np.reshape(np.mean(x, axis=axes), shape)
            x -= self.mean
        if self.featurewise_std_normalization:
            self.std = np.reshape(np.std(x, axis=axes), shape)
            x /= self.std + 1e-6
        if self.zca_whitening:  # (tf-keras's form: from the data's SVD, epsilon added to its singular values)
            flat = np.reshape(x, (len(x), -1))
            u, s, _ = linalg.svd(flat.T, full_matrices=False)
            self.zca_whitening_matrix = (u * (np.sqrt(len(x)) / (s + self.zca_epsilon))) @ u.T

    @property
    def principal_components(self):
        """Keras 2.2's name of ``zca_whitening_matrix``."""
        return self.zca_whitening_matrix
