"""Complaints: filing (parents), handling (staff, the overdue job), figures (/stats)."""
