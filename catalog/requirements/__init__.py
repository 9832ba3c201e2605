"""The finder ("Can we use it?") and the API's requirements check.

``inputs`` declares and parses the requirements a buyer states (the finder's form and the
API's request build their fields from it), ``rules`` decides each requirement from
a model's facts, ``check`` gathers the facts, sorts the catalogue and attaches the evidence
to the rows shown, ``api`` serves the check over REST.
"""
