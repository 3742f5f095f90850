/**
 * The MIME types Gemini reads as input, by family (Gemini API docs: "Image
 * understanding", "Audio understanding", "Video understanding", "Document
 * understanding"). The family decides how a part is counted in tokens.
 */
export const MEDIA_TYPES = {
  image: ['image/png', 'image/jpeg', 'image/webp', 'image/heic', 'image/heif'],
  audio: ['audio/wav', 'audio/mp3', 'audio/mpeg', 'audio/aiff', 'audio/aac', 'audio/ogg', 'audio/flac'],
  video: ['video/mp4', 'video/mpeg', 'video/mov', 'video/quicktime', 'video/avi', 'video/x-flv', 'video/mpg', 'video/webm', 'video/wmv', 'video/3gpp'],
  pdf: ['application/pdf'],
  // Read as plain text: no layout, charts or images.
  text: [
    'text/plain',
    'text/html',
    'text/css',
    'text/csv',
    'text/xml',
    'text/markdown',
    'text/md',
    'text/rtf',
    'application/rtf',
    'text/javascript',
    'application/x-javascript',
    'text/x-typescript',
    'application/x-typescript',
    'text/x-python',
    'application/x-python',
    'application/json',
  ],
} as const;

export type MediaFamily = keyof typeof MEDIA_TYPES;
const FAMILIES: readonly MediaFamily[] = ['image', 'audio', 'video', 'pdf', 'text'];

const FAMILY_OF = new Map<string, MediaFamily>(FAMILIES.flatMap((family) => MEDIA_TYPES[family].map((mime): [string, MediaFamily] => [mime, family])));

/** The family of a supported MIME type; null when Gemini does not read it. */
export function mediaFamily(mimeType: string | undefined): MediaFamily | null {
  return mimeType === undefined ? null : (FAMILY_OF.get(mimeType) ?? null);
}

export const SUPPORTED_MEDIA_HINT = `supported: images (${MEDIA_TYPES.image.join(', ')}), audio (${MEDIA_TYPES.audio.join(', ')}), video (${MEDIA_TYPES.video.join(', ')}), PDF (application/pdf) and text (${MEDIA_TYPES.text.join(', ')})`;
