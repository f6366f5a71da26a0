"""A VGG-like convnet (the seeds' CNN): two blocks of two 3x3 convolutions and a max pooling, then a dense
classifier; SGD with Nesterov momentum and learning-rate decay.

    python examples/vgg_like_cnn.py [--quick]
"""

import numpy as np
from _common import quick

import symkeras as keras
from symkeras.layers import Conv2D, Dense, Dropout, Flatten, MaxPooling2D
from symkeras.models import Sequential
from symkeras.optimizers import SGD

size, samples, epochs = (24, 32, 2) if quick() else (100, 100, 5)
np.random.seed(0)  # (the weights' initial draw: the same run every time)
rng = np.random.default_rng(0)
x_train = rng.random((samples, size, size, 3)).astype("float32")
y_train = keras.utils.to_categorical(rng.integers(10, size=(samples, 1)), num_classes=10)

model = Sequential()
model.add(Conv2D(32, (3, 3), activation="relu", input_shape=(size, size, 3)))
model.add(Conv2D(32, (3, 3), activation="relu"))
model.add(MaxPooling2D(pool_size=(2, 2)))
model.add(Dropout(0.25))
model.add(Conv2D(64, (3, 3), activation="relu"))
model.add(Conv2D(64, (3, 3), activation="relu"))
model.add(MaxPooling2D(pool_size=(2, 2)))
model.add(Dropout(0.25))
model.add(Flatten())
model.add(Dense(256, activation="relu"))
model.add(Dropout(0.5))
model.add(Dense(10, activation="softmax"))
sgd = SGD(learning_rate=0.01, decay=1e-6, momentum=0.9, nesterov=True)
model.compile(loss="categorical_crossentropy", optimizer=sgd)
history = model.fit(x_train, y_train, batch_size=32, epochs=epochs, verbose=0)
print(f"{model.count_params()} parameters; loss {history.history['loss'][0]:.4f} -> {history.history['loss'][-1]:.4f}")
