"""The Textual operator console. Importing this package does not import Textual."""
