"""The trained networks of Section 6.6, one module per task, shared by its page and by Figure 6.16.

Each module gives the settings with which its page trains a network (``*_recipe(quick)``,
keyword arguments of :func:`cnnlib.train.fit` or of another training function) and a function
``trained_*(quick, seed=0, device=None)`` that builds the same data and model and trains them
through :func:`cnnlib.train.cached_fit`: after the page has run, it loads the page's weights
in a second; before, it trains them. So the page that redraws the chapter's Figure 6.16 from
the book's own networks shows the very networks the earlier pages trained and scored.

Modules (imported on demand: ``from cnnlib.recipes import detection``): ``localization``
(6.6.1), ``identification`` (6.6.2), ``segmentation`` (6.6.3), ``detection`` (6.6.4) and
``landmarks`` (6.6.5: keypoints and instances).
"""
