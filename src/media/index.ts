// The Media API of recordings, transcripts and voicemails, and the voicemail-announcement upload: functions of
// a small context, so that the client's methods are one line each.
export { DEFAULT_MEDIA_MAX_BYTES, deleteMedia, downloadMedia, downloadMediaBytes, getMediaUrl } from "./download.js";
export type { DownloadMediaOptions, GetMediaUrlOptions, MediaDownload, MediaSource } from "./download.js";
export { fetchTranscript } from "./transcript.js";
export { DEFAULT_ANNOUNCEMENT_MAX_BYTES, MAX_ANNOUNCEMENT_SECONDS, oggOpusDuration, uploadVoicemailAnnouncement } from "./upload.js";
export type { AnnouncementFile, UploadAnnouncementOptions, UploadAnnouncementResult } from "./upload.js";
export { WhatsAppChecksumError, WhatsAppMediaExpiredError, WhatsAppMediaTooLargeError } from "./errors.js";
export type { MediaContext, MediaRequestOptions } from "./context.js";
