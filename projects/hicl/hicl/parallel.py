"""Running one function over many items, in worker processes, with a progress bar."""
import multiprocessing

from tqdm import tqdm


def progress_map(function, items, workers=1, description=None, unit='it', progress=True):
    """``[function(item) for item in items]`` in input order; in a pool of ``workers`` processes when > 1."""
    items = list(items)
    with tqdm(total=len(items), desc=description, unit=unit, disable=not progress) as bar:
        if workers <= 1:
            results = []
            for item in items:
                results.append(function(item))
                bar.update()
            return results
        with multiprocessing.Pool(workers) as pool:
            results = []
            for result in pool.imap(function, items):
                results.append(result)
                bar.update()
            return results
