"""One module per paper sheet, each defining FORM = FormSpec(...). Adding a
module here adds the sheet to the application."""
