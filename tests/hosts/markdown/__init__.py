"""The directive as a Python-Markdown extension, through a real `zensical build`."""
