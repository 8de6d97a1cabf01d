// What Meta refuses in a change of call hours that the client does not check before sending (openapi.yaml says
// which rules are whose): an unknown time zone, enabled hours with no weekly window, a window that does not open
// before it closes, two windows of a day that overlap, a holiday in the past or one that does not start before it
// ends (calling-api.md §5.2, "documented validation failures"). Meta documents no code for them: 100, as for any
// invalid parameter, naming the field.
import type { CallingSettingsUpdate } from "../../../generated/openapi.js";

type CallHours = NonNullable<CallingSettingsUpdate["call_hours"]>;

/** `[path, problem]` of the first rule the hours break, or undefined. */
export function callHoursProblem(hours: CallHours, now = Date.now()): [path: string, problem: string] | undefined {
  if (hours.timezone_id !== undefined && !knownTimeZone(hours.timezone_id)) {
    return ["calling.call_hours.timezone_id", `${hours.timezone_id} is not a time zone id (IANA, e.g. America/Sao_Paulo)`];
  }
  const weekly = hours.weekly_operating_hours ?? [];
  if (hours.status === "ENABLED" && weekly.length === 0) return ["calling.call_hours.weekly_operating_hours", "is required when call hours are ENABLED"];
  for (const [index, window] of weekly.entries()) {
    if (window.open_time >= window.close_time) {
      return [`calling.call_hours.weekly_operating_hours[${index}]`, `opens at ${window.open_time}, which is not before it closes (${window.close_time})`];
    }
    const overlapping = weekly.findIndex(
      (other, at) => at < index && other.day_of_week === window.day_of_week && other.open_time < window.close_time && window.open_time < other.close_time,
    );
    if (overlapping >= 0) {
      return [`calling.call_hours.weekly_operating_hours[${index}]`, `overlaps weekly_operating_hours[${overlapping}] on ${window.day_of_week}`];
    }
  }
  const today = dateIn(hours.timezone_id, now);
  for (const [index, holiday] of (hours.holiday_schedule ?? []).entries()) {
    if (holiday.date < today) return [`calling.call_hours.holiday_schedule[${index}].date`, `${holiday.date} is in the past (today is ${today})`];
    if (holiday.start_time >= holiday.end_time) {
      return [`calling.call_hours.holiday_schedule[${index}]`, `starts at ${holiday.start_time}, which is not before it ends (${holiday.end_time})`];
    }
  }
  return undefined;
}

function knownTimeZone(id: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: id });
    return true;
  } catch {
    return false;
  }
}

/** Today's date (YYYY-MM-DD) in the business's time zone (UTC when none is given). */
function dateIn(timeZone: string | undefined, now: number): string {
  return new Intl.DateTimeFormat("en-CA", { timeZone: timeZone ?? "UTC", year: "numeric", month: "2-digit", day: "2-digit" }).format(now);
}
