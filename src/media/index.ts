// whatsapp-calling/media: the Media API of recordings, transcripts and voicemails, and the voicemail-announcement
// upload. Functions of a client (`downloadMedia(calls, source)`), on its request path, rather than methods of it:
// a program that never touches media does not carry this code.
export { DEFAULT_MEDIA_MAX_BYTES, deleteMedia, downloadMedia, downloadMediaBytes, getMediaUrl } from "./download.js";
export type { DownloadMediaOptions, GetMediaUrlOptions, MediaDownload, MediaSource } from "./download.js";
export { fetchTranscript } from "./transcript.js";
export { DEFAULT_ANNOUNCEMENT_MAX_BYTES, MAX_ANNOUNCEMENT_SECONDS, uploadVoicemailAnnouncement } from "./upload.js";
export type { AnnouncementFile, UploadAnnouncementOptions, UploadAnnouncementResult } from "./upload.js";
export { WhatsAppChecksumError, WhatsAppMediaExpiredError, WhatsAppMediaTooLargeError } from "./errors.js";
export type { MediaRequestOptions } from "./context.js";
