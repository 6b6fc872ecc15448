"""The audit log's writer (the receiver of `model_changed`) and its selectors.
May import models, records and platform; never http or api.
"""
