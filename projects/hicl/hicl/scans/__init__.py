"""A user's own scan: reading it from common point-cloud and mesh files (readers) and bringing it to the models'
conventions (conventions: z up, metres, finite, no duplicates)."""
from .conventions import normalise_scan
from .readers import Scan, ScanFileError, read_scan

__all__ = ['Scan', 'ScanFileError', 'normalise_scan', 'read_scan']
