from salestrack import create_app

app = create_app()
