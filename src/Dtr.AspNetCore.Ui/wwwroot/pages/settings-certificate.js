// The Certificate tab of the settings page: the HTTPS certificate that this host presents, from
// GET /settings/certificate, and its replacement through PUT with PEM text or a PKCS#12 (PFX) file.

import { h, replace } from '../dom.js';
import { copyButton, form, loadInto, textField, toast } from '../components.js';
import { formatTime } from '../format.js';
import { fileField, radioGroup, withFieldNames } from './settings-fields.js';

const sourceLabels = {
  generated: 'Generated: a self-signed certificate that the registry created in its data folder',
  configured: 'Configured: the certificate files in the host\'s configuration',
  uploaded: 'Uploaded: a certificate replaced on this page or through the API',
};

/** Renders the tab into `panel`. */
export default function renderCertificate(context, panel) {
  const { view } = context;
  const details = h('div', {});

  function load() {
    return loadInto(details, () => view.api.get('/settings/certificate'), (certificate) => describe(certificate));
  }

  replace(panel,
    h('h2', {}, 'HTTPS certificate'),
    details,
    h('h3', {}, 'Replace the certificate'),
    h('p', { class: 'muted' },
      'The next TLS connection presents the new certificate, without a restart. The registry keeps it in its data folder, where it takes precedence over the configured and generated certificates.'),
    uploadForm(view, (certificate) => replace(details, describe(certificate))));
  load();
}

function describe(certificate) {
  const names = certificate.subjectAlternativeNames ?? [];
  const httpsAddresses = certificate.httpsAddresses ?? [];
  return h('div', {},
    httpsAddresses.length === 0
      ? h('p', { class: 'warning', role: 'note' },
        'This host serves plain HTTP only, so no client sees this certificate. It is the certificate that the host would present once HTTPS is on: set Registry:Tls:Enabled=true in the sample host, or call UseRegistryCertificate() on Kestrel in your own host. A proxy in front of the registry that ends TLS presents its own certificate instead.')
      : null,
    h('dl', { class: 'details card' },
      h('dt', {}, 'Subject'), h('dd', {}, certificate.subject || '—'),
      h('dt', {}, 'Subject alternative names'), h('dd', {}, names.length > 0 ? names.join(', ') : 'None'),
      h('dt', {}, 'Issuer'), h('dd', {}, certificate.selfSigned ? `${certificate.issuer} (self-signed)` : certificate.issuer),
      h('dt', {}, 'Valid from'), h('dd', {}, formatTime(certificate.notBefore)),
      h('dt', {}, 'Valid until'), h('dd', {}, formatTime(certificate.notAfter)),
      h('dt', {}, 'SHA-256 fingerprint'), h('dd', {}, h('code', {}, certificate.sha256Thumbprint), ' ', copyButton(certificate.sha256Thumbprint, 'Copy fingerprint')),
      h('dt', {}, 'Source'), h('dd', {}, sourceLabels[certificate.source] ?? certificate.source),
      h('dt', {}, 'Served at'), h('dd', {}, httpsAddresses.length > 0 ? httpsAddresses.join(', ') : 'No HTTPS address')));
}

function uploadForm(view, onReplaced) {
  const format = radioGroup('Certificate format', {
    name: 'format',
    value: 'pem',
    options: [['pem', 'PEM: certificate and private key as text or files'], ['pfx', 'PFX: a PKCS#12 file with a password']],
    onChange: () => showFormatFields(),
  });

  const certificatePem = textField('Certificate (PEM)', {
    name: 'certificatePem', multiline: true,
    hint: 'Paste the text from -----BEGIN CERTIFICATE----- on, or choose the file below. The first certificate is the server certificate.',
  });
  const certificateFile = fileField('Certificate file', { name: 'certificateFile', accept: '.pem,.crt,.cer' });
  const keyPem = textField('Private key (PEM)', {
    name: 'keyPem', multiline: true,
    hint: 'The certificate\'s unencrypted RSA or ECDSA private key, from -----BEGIN PRIVATE KEY----- on, or choose the file below.',
  });
  const keyFile = fileField('Private key file', { name: 'keyFile', accept: '.pem,.key' });
  copyFileText(certificateFile.input, certificatePem.input);
  copyFileText(keyFile.input, keyPem.input);
  for (const input of [certificatePem.input, keyPem.input]) {
    input.spellcheck = false;
    input.setAttribute('autocomplete', 'off');
  }
  const pemFields = h('div', { class: 'field-group' }, certificatePem.field, certificateFile.field, keyPem.field, keyFile.field);

  const pfxFile = fileField('PFX file', {
    name: 'pfxBase64', accept: '.pfx,.p12',
    hint: 'A PKCS#12 file that contains the certificate and its private key.',
  });
  const password = textField('PFX password', {
    name: 'password', type: 'password', autocomplete: 'off',
    hint: 'Leave empty when the file has no password.',
  });
  const pfxFields = h('div', { class: 'field-group' }, pfxFile.field, password.field);

  function showFormatFields() {
    pemFields.hidden = format.value !== 'pem';
    pfxFields.hidden = format.value !== 'pfx';
  }
  showFormatFields();

  const element = form({
    label: 'Replace the HTTPS certificate',
    fields: [format.field, pemFields, pfxFields],
    submitLabel: 'Replace certificate',
    busyLabel: 'Replacing…',
    onSubmit: async () => {
      const body = format.value === 'pfx'
        ? await pfxBody(pfxFile.input, password.input)
        : pemBody(certificatePem.input, keyPem.input);
      let certificate;
      try {
        certificate = await view.api.put('/settings/certificate', body);
      } catch (error) {
        throw withFieldNames(error);
      }
      element.reset();
      showFormatFields();
      onReplaced(certificate);
      toast(`Replaced the HTTPS certificate with ${certificate.subject}.`);
    },
  });
  return element;
}

function pemBody(certificateInput, keyInput) {
  const certificatePem = certificateInput.value.trim();
  const keyPem = keyInput.value.trim();
  if (!certificatePem) {
    certificateInput.focus();
    throw new Error('Paste the PEM certificate or choose its file.');
  }
  if (!keyPem) {
    keyInput.focus();
    throw new Error('Paste the PEM private key or choose its file.');
  }
  return { certificatePem, keyPem };
}

async function pfxBody(fileInput, passwordInput) {
  const file = fileInput.files[0];
  if (!file) {
    fileInput.focus();
    throw new Error('Choose the PFX file to upload.');
  }
  return { pfxBase64: toBase64(new Uint8Array(await file.arrayBuffer())), password: passwordInput.value || null };
}

/** Copies the text of the file chosen in `fileInput` into `textInput`, so that the administrator can check it before sending. */
function copyFileText(fileInput, textInput) {
  fileInput.addEventListener('change', async () => {
    const file = fileInput.files[0];
    if (file) {
      textInput.value = await file.text();
    }
  });
}

function toBase64(bytes) {
  // String.fromCharCode takes its arguments on the stack, so the bytes go in chunks.
  let binary = '';
  for (let offset = 0; offset < bytes.length; offset += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(offset, offset + 0x8000));
  }
  return btoa(binary);
}
