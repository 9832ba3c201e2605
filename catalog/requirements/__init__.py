"""The finder ("Can we use it?") and the API's requirements check.

``inputs`` parses the requirements a buyer states, ``rules`` decides each requirement from
a model's facts, ``check`` gathers the facts, sorts the catalogue and attaches the evidence
to the rows shown, ``api`` serves the check over REST.
"""
