"""Pure numerical models. Nothing here reads files, prints, or imports from the layers above."""
