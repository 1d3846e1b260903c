"""The challenges' measures written independently with numpy, scipy and scikit-image: the reference
for lib/metrics/ctc.ts and lib/metrics/isbi2012.ts in TypeScript.

Cell tracking challenge (SEGMeasure, DETMeasure): SEG pools the Jaccard index of every reference
object over all frames; a reference object R is matched by the predicted object S with
|R & S| > 0.5 |R|. DET = 1 - min(AOGM_D, AOGM_D0) / AOGM_D0 with AOGM_D = 5 splits + 10 FN + 1 FP
and AOGM_D0 = 10 reference objects.

ISBI 2012 (Fiji trainableSegmentation.metrics): a probability map of "not membrane" is
binarized at each threshold (p > t), its 4-connected components compared with the truth's; truth
membrane pixels are left out, predicted membrane pixels count as singletons. Pixel error and Rand
error are 1 - the best F-score, the warping error the least one; V_Rand and V_Info after thinning
the membranes (skimage.morphology.thin) are the best F-scores.
"""
from __future__ import annotations

import numpy as np
from scipy import ndimage
from skimage.morphology import thin

FOUR = ndimage.generate_binary_structure(2, 1)


def components(mask: np.ndarray) -> np.ndarray:
    labels, _ = ndimage.label(mask > 0, structure=FOUR)
    return labels


def ctc_scores(frames: list[tuple[np.ndarray, np.ndarray]]) -> dict[str, float]:
    """frames: (predicted, reference) instance label images."""
    jaccard = 0.0
    objects = fn = fp = splits = 0
    for predicted, reference in frames:
        matched_by: dict[int, int] = {}
        for r in np.unique(reference[reference > 0]):
            region = reference == r
            area = int(region.sum())
            ids, counts = np.unique(predicted[region], return_counts=True)
            objects += 1
            hit = [(int(i), int(c)) for i, c in zip(ids, counts) if i != 0 and c > 0.5 * area]
            if not hit:
                fn += 1
                continue
            s, both = hit[0]
            union = area + int((predicted == s).sum()) - both
            jaccard += both / union
            matched_by[s] = matched_by.get(s, 0) + 1
        predicted_ids = set(int(i) for i in np.unique(predicted[predicted > 0]))
        fp += len(predicted_ids - set(matched_by))
        splits += sum(m - 1 for m in matched_by.values())
    aogm = 5 * splits + 10 * fn + fp
    aogm0 = 10 * objects
    return {
        "seg": jaccard / objects,
        "det": 1 - min(aogm, aogm0) / aogm0,
        "objects": objects,
        "falseNegatives": fn,
        "falsePositives": fp,
        "splits": splits,
    }


def _contingency(truth: np.ndarray, predicted: np.ndarray):
    """Counts of (truth object, predicted object) pairs inside the truth's objects, and the
    number of predicted membrane pixels there (singletons)."""
    inside = truth > 0
    t = truth[inside].astype(np.int64)
    p = predicted[inside].astype(np.int64)
    singletons = int((p == 0).sum())
    keep = p > 0
    pairs = np.stack([t[keep], p[keep]], axis=1)
    _, joint = np.unique(pairs, axis=0, return_counts=True) if len(pairs) else (None, np.zeros(0, np.int64))
    _, rows = np.unique(t, return_counts=True)
    _, columns = np.unique(p[keep], return_counts=True)
    return joint.astype(np.float64), rows.astype(np.float64), columns.astype(np.float64), singletons, int(inside.sum())


def _thinned_foreground(mask: np.ndarray) -> np.ndarray:
    return ~thin(mask == 0)


def isbi_scores(probabilities: list[np.ndarray], truths: list[np.ndarray], thresholds=None) -> dict[str, float]:
    if thresholds is None:
        thresholds = [k / 10 for k in range(10)]
    best = {"pixelError": np.inf, "randError": np.inf, "warpingError": np.inf, "vRand": -np.inf, "vInfo": -np.inf}
    truth_cells = [components(t > 0) for t in truths]
    truth_thin = [components(_thinned_foreground(t > 0)) for t in truths]
    for threshold in thresholds:
        tp = fp = fn = 0
        rand = np.zeros(3)
        thin_rand = np.zeros(3)
        info = np.zeros(5)  # n, sum x ln x of rows, columns, joint
        wrong = pixels = 0
        for probability, truth, cells, thinned in zip(probabilities, truths, truth_cells, truth_thin):
            proposal = probability > threshold
            fg = truth > 0
            tp += int((proposal & fg).sum())
            fp += int((proposal & ~fg).sum())
            fn += int((~proposal & fg).sum())
            joint, rows, columns, singletons, _ = _contingency(cells, components(proposal))
            rand += [(rows**2).sum(), (columns**2).sum() + singletons, (joint**2).sum() + singletons]
            joint, rows, columns, singletons, n = _contingency(thinned, components(_thinned_foreground(proposal)))
            thin_rand += [(rows**2).sum(), (columns**2).sum() + singletons, (joint**2).sum() + singletons]
            xlnx = lambda x: float((x * np.log(x)).sum()) if len(x) else 0.0  # noqa: E731
            info += [n, xlnx(rows), xlnx(columns), xlnx(joint), 0]
            wrong += warping_error(proposal, fg)
            pixels += proposal.size
        pixel_f = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
        n = info[0]
        entropy = lambda s: -s / n + np.log(n)  # noqa: E731
        h_truth, h_predicted, h_joint = entropy(info[1]), entropy(info[2]), entropy(info[3])
        v_info = 1.0 if h_truth + h_predicted == 0 else 2 * (h_truth + h_predicted - h_joint) / (h_truth + h_predicted)
        level = {
            "pixelError": 1 - pixel_f,
            "randError": 1 - 2 * rand[2] / (rand[0] + rand[1]),
            "warpingError": wrong / pixels,
            "vRand": 2 * thin_rand[2] / (thin_rand[0] + thin_rand[1]),
            "vInfo": v_info,
        }
        for key in ("pixelError", "randError", "warpingError"):
            best[key] = min(best[key], level[key])
        for key in ("vRand", "vInfo"):
            best[key] = max(best[key], level[key])
    return best


def rand_parts(probabilities: list[np.ndarray], truths: list[np.ndarray], threshold: float) -> dict:
    """The Rand F-score's split and merge scores (Arganda-Carreras et al. 2015) at one threshold,
    pooled and per slice: split = (sum n_ij^2) / (sum a_i^2) over the truth's objects, merge =
    (sum n_ij^2) / (sum b_j^2) over the predicted ones, foreground-restricted as above."""
    pooled = np.zeros(3)
    slices = []
    for probability, truth in zip(probabilities, truths):
        joint, rows, columns, singletons, _ = _contingency(components(truth > 0), components(probability > threshold))
        counts = np.array([(rows**2).sum(), (columns**2).sum() + singletons, (joint**2).sum() + singletons])
        pooled += counts
        slices.append([1 - 2 * counts[2] / (counts[0] + counts[1]), counts[2] / counts[0], counts[2] / counts[1]])
    return {"split": pooled[2] / pooled[0], "merge": pooled[2] / pooled[1], "slices": slices}


# Simple points: flipping the centre keeps one 8-connected foreground component and one
# 4-connected background component touching it (the definition Jain et al. 2010 use).
_RING = [(-1, -1), (-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1)]


def _is_simple(window: np.ndarray) -> bool:
    """window: 3 x 3 of 0/1 (the centre is ignored)."""
    fg = window.copy()
    fg[1, 1] = 0
    fg_labels, _ = ndimage.label(fg, structure=np.ones((3, 3), bool))
    touching_fg = {fg_labels[1 + dy, 1 + dx] for dy, dx in _RING if fg_labels[1 + dy, 1 + dx] > 0}
    bg = 1 - window
    bg[1, 1] = 0
    bg_labels, _ = ndimage.label(bg, structure=FOUR)
    touching_bg = {bg_labels[1 + dy, 1 + dx] for dy, dx in ((-1, 0), (0, 1), (1, 0), (0, -1)) if bg_labels[1 + dy, 1 + dx] > 0}
    return len(touching_fg) == 1 and len(touching_bg) == 1


def warping_error(predicted: np.ndarray, truth: np.ndarray) -> int:
    """Pixels that still differ after the truth is warped towards the prediction by flipping
    simple pixels only (in raster order, repeated until nothing changes); a count."""
    target = predicted.astype(np.uint8)
    warped = np.pad(truth.astype(np.uint8), 1)
    changed = True
    while changed:
        changed = False
        for y, x in zip(*np.nonzero(warped[1:-1, 1:-1] != target)):
            if warped[y + 1, x + 1] == target[y, x]:
                continue
            if _is_simple(warped[y : y + 3, x : x + 3]):
                warped[y + 1, x + 1] = target[y, x]
                changed = True
    return int((warped[1:-1, 1:-1] != target).sum())
