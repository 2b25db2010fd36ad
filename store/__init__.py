"""Persistence shared by the pipelines and the API: configuration, models, sessions, migrations."""
