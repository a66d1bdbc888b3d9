# Generates resample_ref.json: reference outputs of ComfyUI's
# comfy.utils.common_upscale semantics (torch.nn.functional.interpolate on a
# channels-last NCHW view, Pillow LANCZOS for "lanczos"), for
# TestUpscaleMatchesTorch. Not run by the tests; rerun by hand:
#   python3 resample_ref.py > resample_ref.json
# Written for regen (not copied from ComfyUI); versions are recorded in the
# output.
import json, sys
import numpy as np
import PIL
from PIL import Image
import torch
import torch.nn.functional as F

torch.set_num_threads(1)

def lanczos(samples, width, height):
    out = []
    for image in samples:
        a = np.clip(255. * image.movedim(0, -1).numpy(), 0, 255).astype(np.uint8)
        im = Image.fromarray(a).resize((width, height), resample=Image.Resampling.LANCZOS)
        out.append(torch.from_numpy(np.array(im).astype(np.float32) / 255.0).movedim(-1, 0))
    return torch.stack(out)

def upscale(samples, width, height, method, crop):
    if crop == "center":
        ow, oh = samples.shape[-1], samples.shape[-2]
        oa, na = ow / oh, width / height
        x = y = 0
        if oa > na:
            x = round((ow - ow * (na / oa)) / 2)
        elif oa < na:
            y = round((oh - oh * (oa / na)) / 2)
        samples = samples.narrow(-2, y, oh - 2 * y).narrow(-1, x, ow - 2 * x)
    if method == "lanczos":
        return lanczos(samples, width, height)
    return F.interpolate(samples, size=(height, width), mode=method)

def f32(a):
    # shortest decimal that round-trips the float32 value
    return " ".join(np.format_float_scientific(v, unique=True, trim="-") for v in a.reshape(-1))

rng = np.random.default_rng(20261129)
cases, images = [], []
for (n, h, w) in [(2, 5, 7), (1, 8, 6)]:
    img = rng.random((n, h, w, 3), dtype=np.float32)
    img[0, 0, 0, :] = [0.0, 1.0, 0.999]
    t = torch.from_numpy(img)
    images.append({"n": n, "h": h, "w": w, "pix": f32(img)})
    for method in ["nearest-exact", "bilinear", "area", "bicubic", "lanczos"]:
        for (ow, oh, crop) in [(w, h, "disabled"), (3, 4, "disabled"), (11, 9, "disabled"),
                               (13, 2, "disabled"), (4, 10, "center"), (10, 4, "center")]:
            out = upscale(t.movedim(-1, 1), ow, oh, method, crop).movedim(1, -1).contiguous()
            cases.append({"method": method, "crop": crop, "image": len(images) - 1,
                          "width": ow, "height": oh, "out": f32(out.numpy())})
json.dump({"torch": torch.__version__, "pillow": PIL.__version__, "numpy": np.__version__,
           "images": images, "cases": cases}, sys.stdout, separators=(",", ":"))
