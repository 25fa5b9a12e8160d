package dev.loadtest.generator.http;

import java.time.Duration;
import java.util.List;

/**
 * One request as the scenario engine rendered it: nothing here is a template any more.
 *
 * @param headers name/value pairs in order (a name may repeat)
 * @param body the request body, or null
 * @param keepBody whether checks or extractions need the response body (otherwise it is only counted)
 */
public record HttpCall(String method, String url, List<String[]> headers, byte[] body, Duration timeout,
    boolean keepBody) {}
