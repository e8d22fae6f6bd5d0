"""VIA's events service (Veranstaltungen): the calendar of seminars, workshops and talks, registrations with
a waitlist, and the notices people get about them."""
