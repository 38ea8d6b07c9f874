"""mpscope's window: Qt widgets and plots over the Qt-free engine in ``workers``."""
