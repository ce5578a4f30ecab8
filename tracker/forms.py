"""The ingest page's forms: pasted text, a URL, an uploaded file."""

from django import forms

UPLOAD_MAX_BYTES = 5 * 1024 * 1024


class TextForm(forms.Form):
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 10}), strip=False)
    title = forms.CharField(required=False, max_length=500)
    url = forms.URLField(
        required=False, max_length=2000, label="Where it was published", assume_scheme="https"
    )
    publisher = forms.CharField(required=False, max_length=200)
    published_on = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}), label="Published on"
    )

    def clean_text(self) -> str:
        text = self.cleaned_data["text"]
        if not text.strip():
            raise forms.ValidationError("Paste the article's text.")
        return text


class UrlForm(forms.Form):
    url = forms.URLField(max_length=2000, label="Article URL", assume_scheme="https")


class UploadForm(forms.Form):
    file = forms.FileField(
        label="A .txt, .md or .html file",
        widget=forms.ClearableFileInput(attrs={"accept": ".txt,.md,.html,.htm"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > UPLOAD_MAX_BYTES:
            raise forms.ValidationError("The file is larger than 5 MB.")
        return upload


INGEST_FORMS = {"text": TextForm, "url": UrlForm, "file": UploadForm}
