"""The directory (Verzeichnis): who exists among Berlin's migrant organisations, and how they connect."""
