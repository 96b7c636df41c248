"""Session engines: Django's five stores, each extended by one mixin.

``SESSION_ENGINE=db`` (and the other short names) selects the module of the same name
here; each defines ``SessionStore`` as ``SessionApiStoreMixin`` over Django's store.
"""
