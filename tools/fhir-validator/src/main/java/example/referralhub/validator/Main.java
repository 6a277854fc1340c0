package example.referralhub.validator;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.support.DefaultProfileValidationSupport;
import ca.uhn.fhir.context.support.IValidationSupport;
import ca.uhn.fhir.parser.IParser;
import ca.uhn.fhir.validation.FhirValidator;
import ca.uhn.fhir.validation.ResultSeverityEnum;
import ca.uhn.fhir.validation.SingleValidationMessage;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.hl7.fhir.common.hapi.validation.support.CommonCodeSystemsTerminologyService;
import org.hl7.fhir.common.hapi.validation.support.InMemoryTerminologyServerValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.PrePopulatedValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.SnapshotGeneratingValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.ValidationSupportChain;
import org.hl7.fhir.common.hapi.validation.validator.FhirInstanceValidator;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.MetadataResource;

/**
 * Validates FHIR R4 JSON files with HAPI's instance validator, offline (the core definitions and
 * terminology that ship in the jars, plus the project's own conformance resources).
 *
 * <p>Usage: {@code Main [--conformance DIR]... PATH...}, a PATH being a JSON file or a directory
 * of them. Every resource in a {@code --conformance} directory (CodeSystems, ValueSets,
 * Questionnaires, MessageDefinitions...) is known to the validator by its canonical URL. Prints
 * one JSON line per issue ({@code file, severity, location, message, messageId}) on stdout and a
 * summary on stderr. Exit code: 0 without errors, 1 with at least one error, 2 when a file could
 * not be read or parsed.
 */
public final class Main {

  private Main() {}

  public static void main(String[] args) throws IOException {
    List<Path> conformance = new ArrayList<>();
    List<Path> inputs = new ArrayList<>();
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--conformance") && i + 1 < args.length) {
        conformance.add(Path.of(args[++i]));
      } else {
        inputs.add(Path.of(args[i]));
      }
    }
    if (inputs.isEmpty()) {
      System.err.println("usage: Main [--conformance DIR]... FILE-OR-DIR...");
      System.exit(2);
    }
    FhirContext ctx = FhirContext.forR4Cached();
    IParser parser = ctx.newJsonParser();
    ProjectResources project = new ProjectResources(ctx);
    for (Path dir : conformance) {
      for (Path file : jsonFiles(dir)) {
        project.add(parser.parseResource(read(file)));
      }
    }
    ValidationSupportChain chain = new ValidationSupportChain(
        project,
        new DefaultProfileValidationSupport(ctx),
        new InMemoryTerminologyServerValidationSupport(ctx),
        new CommonCodeSystemsTerminologyService(ctx),
        new SnapshotGeneratingValidationSupport(ctx));
    FhirValidator validator = ctx.newValidator();
    validator.registerValidatorModule(new FhirInstanceValidator(chain));

    PrintStream out = new PrintStream(System.out, false, StandardCharsets.UTF_8);
    Map<ResultSeverityEnum, Integer> counts = new HashMap<>();
    int files = 0;
    boolean unreadable = false;
    for (Path input : inputs) {
      for (Path file : jsonFiles(input)) {
        files++;
        List<SingleValidationMessage> messages;
        try {
          messages = validator.validateWithResult(read(file)).getMessages();
        } catch (RuntimeException e) {
          unreadable = true;
          out.println(issue(file, "fatal", "", String.valueOf(e.getMessage()), "unreadable"));
          continue;
        }
        for (SingleValidationMessage m : messages) {
          counts.merge(m.getSeverity(), 1, Integer::sum);
          out.println(issue(file, m.getSeverity().getCode(), m.getLocationString(),
              m.getMessage(), m.getMessageId()));
        }
      }
    }
    out.flush();
    int errors = counts.getOrDefault(ResultSeverityEnum.ERROR, 0)
        + counts.getOrDefault(ResultSeverityEnum.FATAL, 0);
    System.err.printf("%d files: %d errors, %d warnings, %d information%n", files, errors,
        counts.getOrDefault(ResultSeverityEnum.WARNING, 0),
        counts.getOrDefault(ResultSeverityEnum.INFORMATION, 0));
    System.exit(unreadable ? 2 : errors > 0 ? 1 : 0);
  }

  /** The project's conformance resources: terminology as HAPI expects it, others by URL. */
  private static final class ProjectResources extends PrePopulatedValidationSupport {
    private final Map<String, IBaseResource> byUrl = new HashMap<>();

    ProjectResources(FhirContext ctx) {
      super(ctx);
    }

    void add(IBaseResource resource) {
      addResource(resource);
      if (resource instanceof MetadataResource canonical && canonical.hasUrl()) {
        byUrl.put(canonical.getUrl(), resource);
        if (canonical.hasVersion()) {
          byUrl.put(canonical.getUrl() + "|" + canonical.getVersion(), resource);
        }
      }
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T extends IBaseResource> T fetchResource(Class<T> type, String url) {
      IBaseResource found = byUrl.get(url);
      if (found != null && (type == null || type.isInstance(found))) {
        return (T) found;
      }
      return super.fetchResource(type, url);
    }

    @Override
    public String getName() {
      return "referral-hub conformance resources";
    }
  }

  private static String read(Path file) throws IOException {
    return Files.readString(file, StandardCharsets.UTF_8);
  }

  private static List<Path> jsonFiles(Path path) throws IOException {
    if (!Files.isDirectory(path)) {
      return List.of(path);
    }
    try (Stream<Path> walk = Files.walk(path)) {
      return walk.filter(p -> p.toString().endsWith(".json")).sorted().toList();
    }
  }

  private static String issue(Path file, String severity, String location, String message,
      String messageId) {
    return "{\"file\": " + quoted(file.toString()) + ", \"severity\": " + quoted(severity)
        + ", \"location\": " + quoted(location) + ", \"message\": " + quoted(message)
        + ", \"messageId\": " + quoted(messageId) + "}";
  }

  private static String quoted(String text) {
    if (text == null) {
      return "null";
    }
    StringBuilder b = new StringBuilder("\"");
    for (char c : text.toCharArray()) {
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        case '\n' -> b.append("\\n");
        case '\r' -> b.append("\\r");
        case '\t' -> b.append("\\t");
        default -> {
          if (c < 0x20) {
            b.append(String.format("\\u%04x", (int) c));
          } else {
            b.append(c);
          }
        }
      }
    }
    return b.append('"').toString();
  }
}
