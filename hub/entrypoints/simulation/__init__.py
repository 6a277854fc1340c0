"""A simulated year of the arrest referral service, calibrated on its published figures."""
