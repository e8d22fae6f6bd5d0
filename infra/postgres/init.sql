-- One database per service: each service owns its data and shares nothing but published events.
CREATE DATABASE ikmo_directory;
CREATE DATABASE ikmo_events;
CREATE DATABASE ikmo_grants;
CREATE DATABASE ikmo_volunteering;
CREATE DATABASE ikmo_reporting;
