"""passhub's portal: the pages people use, behind the institution's single sign-on.

It keeps no database and no business rules: it logs people in with OpenID Connect, issues
short-lived bearer tokens for them (signed with its own key, published as a JWKS), and calls
the services' public HTTP APIs with those tokens.
"""
