"""What happens to sealed PDFs after they leave the archive: a stamp or a
second signature appended, one byte changed, the file saved again by a viewer."""
import io

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import copy_into_new_writer

from salestrack import pdf


def append_stamp(body: bytes) -> bytes:
    """A rubber-stamp annotation on page 1, added as an incremental update."""
    writer = IncrementalPdfFileWriter(io.BytesIO(body))
    page_ref = writer.find_page_for_modification(0)[0]
    page = page_ref.get_object()
    stamp = writer.add_object(generic.DictionaryObject({
        generic.NameObject("/Type"): generic.NameObject("/Annot"),
        generic.NameObject("/Subtype"): generic.NameObject("/Stamp"),
        generic.NameObject("/Rect"): generic.ArrayObject([generic.NumberObject(n) for n in (400, 700, 550, 780)]),
        generic.NameObject("/Name"): generic.NameObject("/Approved"),
        generic.NameObject("/F"): generic.NumberObject(4),
    }))
    annots = page.get("/Annots")
    annots = generic.ArrayObject(list(annots.get_object()) if annots is not None else [])
    annots.append(stamp)
    page[generic.NameObject("/Annots")] = annots
    writer.update_container(page)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def append_signature(body: bytes, key, cert) -> bytes:
    """A second (the customer's) signature in its own field, appended."""
    return pdf.seal_pdf(body, key, cert, reason="客户确认", field_name="Customer")


def flip_byte(body: bytes, where: float = 0.33) -> bytes:
    changed = bytearray(body)
    changed[int(len(body) * where)] ^= 0x01
    return bytes(changed)


def resave(body: bytes) -> bytes:
    """The file written out anew, as a viewer's 另存为 does: same objects, new byte layout."""
    writer = copy_into_new_writer(PdfFileReader(io.BytesIO(body), strict=False))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
