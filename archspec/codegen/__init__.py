"""What every source emitter shares: the jinja2 environment, literals, names, free params."""
