
CREATE TABLE public.application_events (
    id integer NOT NULL,
    application character varying(64) NOT NULL,
    at timestamp with time zone NOT NULL,
    actor character varying(18) NOT NULL,
    client character varying(128) NOT NULL,
    "user" text,
    action character varying(32) NOT NULL,
    from_status character varying(16),
    to_status character varying(16) NOT NULL,
    reasons json NOT NULL
);

CREATE SEQUENCE public.application_events_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.application_events_id_seq OWNED BY public.application_events.id;

CREATE TABLE public.applications (
    id character varying(64) NOT NULL,
    consumer character varying(18) NOT NULL,
    provider character varying(18) NOT NULL,
    resource character varying(128) NOT NULL,
    items json NOT NULL,
    modes json NOT NULL,
    purpose text NOT NULL,
    scope_of_knowledge text NOT NULL,
    security_measures text NOT NULL,
    legal_basis text NOT NULL,
    valid_from timestamp with time zone NOT NULL,
    valid_until timestamp with time zone NOT NULL,
    status character varying(16) NOT NULL,
    submitted_at timestamp with time zone NOT NULL,
    check_due date,
    checked_at timestamp with time zone,
    decide_due date,
    decided_at timestamp with time zone,
    decided_by character varying(18),
    notify_due date,
    notified_at timestamp with time zone,
    reasons json NOT NULL,
    grant_id character varying(64),
    calendar_warning text
);

CREATE TABLE public.audit_events (
    id character varying(64) NOT NULL,
    instance character varying(64) NOT NULL,
    seq bigint NOT NULL,
    "time" timestamp with time zone NOT NULL,
    prev_hash character varying(64) NOT NULL,
    hash character varying(64) NOT NULL,
    kind text NOT NULL,
    consumer text,
    client text,
    "user" text,
    purpose text,
    application text,
    mode text,
    outcome text NOT NULL,
    resources json NOT NULL,
    items json NOT NULL,
    subjects json NOT NULL,
    decisions json NOT NULL,
    response_digest text,
    detail json NOT NULL
);

CREATE TABLE public.audit_events_meta (
    key character varying(64) NOT NULL,
    value text NOT NULL
);

CREATE TABLE public.audit_events_resources (
    resource text NOT NULL,
    event_id character varying(64) NOT NULL
);

CREATE TABLE public.audit_events_usage (
    span smallint NOT NULL,
    bucket bigint NOT NULL,
    department character varying(64) NOT NULL,
    mode character varying(16) NOT NULL,
    consumer character varying(64) NOT NULL,
    calls bigint NOT NULL,
    refusals bigint NOT NULL,
    unavailable bigint NOT NULL
);

CREATE TABLE public.change_notices (
    id character varying(64) NOT NULL,
    resource character varying(128) NOT NULL,
    provider character varying(18) NOT NULL,
    subjects json NOT NULL,
    items json NOT NULL,
    changed_at timestamp with time zone NOT NULL,
    notified_at timestamp with time zone NOT NULL,
    due date,
    late boolean NOT NULL,
    notified_by character varying(18) NOT NULL
);

CREATE TABLE public.change_source_stamps (
    resource character varying(128) NOT NULL,
    stamp timestamp with time zone NOT NULL
);

CREATE TABLE public.grant_usage (
    "grant" character varying(64) NOT NULL,
    day date NOT NULL,
    subject character varying(18) NOT NULL
);

CREATE TABLE public.grants (
    id character varying(64) NOT NULL,
    consumer character varying(18) NOT NULL,
    resource character varying(128) NOT NULL,
    items json NOT NULL,
    modes json NOT NULL,
    purpose text NOT NULL,
    valid_from timestamp with time zone NOT NULL,
    valid_until timestamp with time zone NOT NULL,
    revoked_at timestamp with time zone,
    created_at timestamp with time zone NOT NULL,
    conditions json,
    application character varying(64)
);

CREATE TABLE public.oauth_clients (
    client_id character varying(64) NOT NULL,
    department character varying(18) NOT NULL,
    name character varying(200) NOT NULL,
    roles json NOT NULL,
    grant_types json NOT NULL,
    secret_hash character varying(256) NOT NULL,
    created_at timestamp with time zone NOT NULL,
    disabled_at timestamp with time zone
);

CREATE TABLE public.objection_events (
    id integer NOT NULL,
    objection character varying(64) NOT NULL,
    at timestamp with time zone NOT NULL,
    actor character varying(18) NOT NULL,
    client character varying(128) NOT NULL,
    "user" text,
    action character varying(16) NOT NULL,
    text text NOT NULL
);

CREATE SEQUENCE public.objection_events_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.objection_events_id_seq OWNED BY public.objection_events.id;

CREATE TABLE public.objections (
    id character varying(64) NOT NULL,
    consumer character varying(18) NOT NULL,
    provider character varying(18) NOT NULL,
    resource character varying(128) NOT NULL,
    subject character varying(18) NOT NULL,
    item character varying(128) NOT NULL,
    reason text NOT NULL,
    status character varying(16) NOT NULL,
    raised_at timestamp with time zone NOT NULL,
    due date NOT NULL,
    statutory boolean NOT NULL,
    basis text NOT NULL,
    answered_at timestamp with time zone,
    answered_by character varying(18),
    outcome character varying(16),
    note text
);

CREATE TABLE public.onboarding (
    department character varying(18) NOT NULL,
    commitment text NOT NULL,
    onboarded_at timestamp with time zone NOT NULL,
    onboarded_by character varying(64) NOT NULL
);

ALTER TABLE ONLY public.application_events ALTER COLUMN id SET DEFAULT nextval('public.application_events_id_seq'::regclass);

ALTER TABLE ONLY public.objection_events ALTER COLUMN id SET DEFAULT nextval('public.objection_events_id_seq'::regclass);

INSERT INTO public.application_events VALUES (1, 'app-199a0a86e201', '2026-11-30 17:07:49.463382+00', '11420100MB00020145', 'govshare-demo', NULL, 'submit', NULL, 'submitted', '[]');
INSERT INTO public.application_events VALUES (2, 'app-199a0a86e201', '2026-11-30 17:07:49.494109+00', '11420100MB0002030T', 'govshare-demo', NULL, 'accept', 'submitted', 'accepted', '["demo: application accepted"]');
INSERT INTO public.application_events VALUES (3, 'app-199a0a86e201', '2026-11-30 17:07:49.494625+00', '11420100MB0002030T', 'govshare-demo', NULL, 'approve', 'accepted', 'approved', '["platform grants unconditional items"]');
INSERT INTO public.application_events VALUES (4, 'app-199a0a86e201', '2026-11-30 17:07:49.494675+00', '11420100MB0002030T', 'govshare-demo', NULL, 'notify', 'approved', 'approved', '["11420100MB00020145 told: approved"]');
INSERT INTO public.application_events VALUES (5, 'app-e8d207c8893a', '2026-11-30 17:07:49.518445+00', '11420100MB00020145', 'govshare-demo', NULL, 'submit', NULL, 'submitted', '[]');
INSERT INTO public.application_events VALUES (6, 'app-e8d207c8893a', '2026-11-30 17:07:49.526474+00', '11420100MB0002030T', 'govshare-demo', NULL, 'accept', 'submitted', 'accepted', '["demo: application accepted"]');
INSERT INTO public.application_events VALUES (7, 'app-e8d207c8893a', '2026-11-30 17:07:49.527021+00', '11420100MB0002030T', 'govshare-demo', NULL, 'approve', 'accepted', 'approved', '["platform grants unconditional items"]');
INSERT INTO public.application_events VALUES (8, 'app-e8d207c8893a', '2026-11-30 17:07:49.527075+00', '11420100MB0002030T', 'govshare-demo', NULL, 'notify', 'approved', 'approved', '["11420100MB00020145 told: approved"]');
INSERT INTO public.application_events VALUES (9, 'app-66a36b164929', '2026-11-30 17:07:49.534224+00', '11420100MB00020145', 'govshare-demo', NULL, 'submit', NULL, 'submitted', '[]');
INSERT INTO public.application_events VALUES (10, 'app-66a36b164929', '2026-11-30 17:07:49.551006+00', '11420100MB0002030T', 'govshare-demo', NULL, 'accept', 'submitted', 'accepted', '["demo: application accepted"]');
INSERT INTO public.application_events VALUES (11, 'app-66a36b164929', '2026-11-30 17:07:49.551468+00', '11420100MB0002030T', 'govshare-demo', NULL, 'approve', 'accepted', 'approved', '["platform grants unconditional items"]');
INSERT INTO public.application_events VALUES (12, 'app-66a36b164929', '2026-11-30 17:07:49.551516+00', '11420100MB0002030T', 'govshare-demo', NULL, 'notify', 'approved', 'approved', '["11420100MB00020145 told: approved"]');
INSERT INTO public.application_events VALUES (13, 'app-76e5b80616db', '2026-11-30 17:07:49.566767+00', '11420100MB00020145', 'govshare-demo', NULL, 'submit', NULL, 'submitted', '[]');
INSERT INTO public.application_events VALUES (14, 'app-76e5b80616db', '2026-11-30 17:07:49.590426+00', '11420100MB0002030T', 'govshare-demo', NULL, 'accept', 'submitted', 'accepted', '["demo: application accepted"]');
INSERT INTO public.application_events VALUES (15, 'app-76e5b80616db', '2026-11-30 17:07:49.590926+00', '11420100MB0002030T', 'govshare-demo', NULL, 'approve', 'accepted', 'approved', '["platform grants unconditional items"]');
INSERT INTO public.application_events VALUES (16, 'app-76e5b80616db', '2026-11-30 17:07:49.590974+00', '11420100MB0002030T', 'govshare-demo', NULL, 'notify', 'approved', 'approved', '["11420100MB00020145 told: approved"]');
INSERT INTO public.application_events VALUES (17, 'app-c03329b5afc9', '2026-11-30 17:07:49.602271+00', '11420100MB00020145', 'govshare-demo', NULL, 'submit', NULL, 'submitted', '[]');
INSERT INTO public.application_events VALUES (18, 'app-c03329b5afc9', '2026-11-30 17:07:49.614168+00', '11420100MB0002030T', 'govshare-demo', NULL, 'accept', 'submitted', 'accepted', '["demo: application accepted"]');
INSERT INTO public.application_events VALUES (19, 'app-c03329b5afc9', '2026-11-30 17:07:49.614618+00', '11420100MB0002030T', 'govshare-demo', NULL, 'approve', 'accepted', 'approved', '["platform grants unconditional items"]');
INSERT INTO public.application_events VALUES (20, 'app-c03329b5afc9', '2026-11-30 17:07:49.614665+00', '11420100MB0002030T', 'govshare-demo', NULL, 'notify', 'approved', 'approved', '["11420100MB00020145 told: approved"]');
INSERT INTO public.application_events VALUES (21, 'app-c8c29ca759f1', '2026-11-30 17:07:49.638233+00', '11420100MB00020145', 'govshare-demo', NULL, 'submit', NULL, 'submitted', '[]');
INSERT INTO public.application_events VALUES (22, 'app-c8c29ca759f1', '2026-11-30 17:07:49.666021+00', '11420100MB0002030T', 'govshare-demo', NULL, 'accept', 'submitted', 'accepted', '["demo: application accepted"]');
INSERT INTO public.application_events VALUES (23, 'app-c8c29ca759f1', '2026-11-30 17:07:49.6665+00', '11420100MB0002030T', 'govshare-demo', NULL, 'approve', 'accepted', 'approved', '["platform grants unconditional items"]');
INSERT INTO public.application_events VALUES (24, 'app-c8c29ca759f1', '2026-11-30 17:07:49.666551+00', '11420100MB0002030T', 'govshare-demo', NULL, 'notify', 'approved', 'approved', '["11420100MB00020145 told: approved"]');
INSERT INTO public.application_events VALUES (25, 'app-96fd15ec7af2', '2026-11-30 17:07:49.690274+00', '11420100MB00020145', 'govshare-demo', NULL, 'submit', NULL, 'submitted', '[]');
INSERT INTO public.application_events VALUES (26, 'app-96fd15ec7af2', '2026-11-30 17:07:49.694261+00', '11420100MB0002030T', 'govshare-demo', NULL, 'accept', 'submitted', 'accepted', '["demo: application accepted"]');
INSERT INTO public.application_events VALUES (27, 'app-96fd15ec7af2', '2026-11-30 17:07:49.694716+00', '11420100MB0002030T', 'govshare-demo', NULL, 'approve', 'accepted', 'approved', '["platform grants unconditional items"]');
INSERT INTO public.application_events VALUES (28, 'app-96fd15ec7af2', '2026-11-30 17:07:49.694765+00', '11420100MB0002030T', 'govshare-demo', NULL, 'notify', 'approved', 'approved', '["11420100MB00020145 told: approved"]');
INSERT INTO public.application_events VALUES (29, 'app-1ec434d128b1', '2026-11-30 17:07:49.706629+00', '11420100MB00020145', 'govshare-demo', NULL, 'submit', NULL, 'submitted', '[]');
INSERT INTO public.application_events VALUES (30, 'app-1ec434d128b1', '2026-11-30 17:07:49.721494+00', '11420100MB0002030T', 'govshare-demo', NULL, 'accept', 'submitted', 'accepted', '["demo: application accepted"]');
INSERT INTO public.application_events VALUES (31, 'app-1ec434d128b1', '2026-11-30 17:07:49.721989+00', '11420100MB0002030T', 'govshare-demo', NULL, 'approve', 'accepted', 'approved', '["platform grants unconditional items"]');
INSERT INTO public.application_events VALUES (32, 'app-1ec434d128b1', '2026-11-30 17:07:49.722039+00', '11420100MB0002030T', 'govshare-demo', NULL, 'notify', 'approved', 'approved', '["11420100MB00020145 told: approved"]');
INSERT INTO public.application_events VALUES (33, 'app-9915c34dc786', '2026-11-30 17:07:49.742194+00', '11420100MB00020145', 'govshare-demo', NULL, 'submit', NULL, 'submitted', '[]');
INSERT INTO public.application_events VALUES (34, 'app-9915c34dc786', '2026-11-30 17:07:49.744924+00', '11420100MB0002030T', 'govshare-demo', NULL, 'accept', 'submitted', 'accepted', '["demo: application accepted"]');
INSERT INTO public.application_events VALUES (35, 'app-9915c34dc786', '2026-11-30 17:07:49.745349+00', '11420100MB0002030T', 'govshare-demo', NULL, 'approve', 'accepted', 'approved', '["platform grants unconditional items"]');
INSERT INTO public.application_events VALUES (36, 'app-9915c34dc786', '2026-11-30 17:07:49.745404+00', '11420100MB0002030T', 'govshare-demo', NULL, 'notify', 'approved', 'approved', '["11420100MB00020145 told: approved"]');
INSERT INTO public.application_events VALUES (37, 'app-2754f4dee2dd', '2026-11-30 17:07:49.758129+00', '11420100MB00020145', 'govshare-demo', NULL, 'submit', NULL, 'submitted', '[]');
INSERT INTO public.application_events VALUES (38, 'app-2754f4dee2dd', '2026-11-30 17:07:49.767565+00', '11420100MB0002030T', 'govshare-demo', NULL, 'accept', 'submitted', 'accepted', '["demo: application accepted"]');
INSERT INTO public.application_events VALUES (39, 'app-2754f4dee2dd', '2026-11-30 17:07:49.767998+00', '11420100MB0002030T', 'govshare-demo', NULL, 'approve', 'accepted', 'approved', '["platform grants unconditional items"]');
INSERT INTO public.application_events VALUES (40, 'app-2754f4dee2dd', '2026-11-30 17:07:49.768049+00', '11420100MB0002030T', 'govshare-demo', NULL, 'notify', 'approved', 'approved', '["11420100MB00020145 told: approved"]');
INSERT INTO public.application_events VALUES (41, 'app-2c0f4d0f7a5d', '2026-11-30 17:07:49.779947+00', '11420100MB00020220', 'govshare-demo', NULL, 'submit', NULL, 'submitted', '[]');
INSERT INTO public.application_events VALUES (42, 'app-2c0f4d0f7a5d', '2026-11-30 17:07:49.798164+00', '11420100MB0002030T', 'govshare-demo', NULL, 'accept', 'submitted', 'accepted', '["demo: application accepted"]');
INSERT INTO public.application_events VALUES (43, 'app-2c0f4d0f7a5d', '2026-11-30 17:07:49.798587+00', '11420100MB0002030T', 'govshare-demo', NULL, 'approve', 'accepted', 'approved', '["platform grants unconditional items"]');
INSERT INTO public.application_events VALUES (44, 'app-2c0f4d0f7a5d', '2026-11-30 17:07:49.798633+00', '11420100MB0002030T', 'govshare-demo', NULL, 'notify', 'approved', 'approved', '["11420100MB00020220 told: approved"]');
INSERT INTO public.application_events VALUES (45, 'app-364683d2b7d7', '2026-11-30 17:07:49.80077+00', '11420100MB00020220', 'govshare-demo', NULL, 'submit', NULL, 'submitted', '[]');
INSERT INTO public.application_events VALUES (46, 'app-364683d2b7d7', '2026-11-30 17:07:49.815175+00', '11420100MB0002030T', 'govshare-demo', NULL, 'accept', 'submitted', 'accepted', '["demo: application accepted"]');
INSERT INTO public.application_events VALUES (47, 'app-364683d2b7d7', '2026-11-30 17:07:49.815626+00', '11420100MB0002030T', 'govshare-demo', NULL, 'approve', 'accepted', 'approved', '["platform grants unconditional items"]');
INSERT INTO public.application_events VALUES (48, 'app-364683d2b7d7', '2026-11-30 17:07:49.815676+00', '11420100MB0002030T', 'govshare-demo', NULL, 'notify', 'approved', 'approved', '["11420100MB00020220 told: approved"]');
INSERT INTO public.application_events VALUES (49, 'app-f620bfa55a64', '2026-11-30 17:07:49.818011+00', '11420100MB00020220', 'govshare-demo', NULL, 'submit', NULL, 'submitted', '[]');
INSERT INTO public.application_events VALUES (50, 'app-f620bfa55a64', '2026-11-30 17:07:49.838799+00', '11420100MB0002030T', 'govshare-demo', NULL, 'accept', 'submitted', 'accepted', '["demo: application accepted"]');
INSERT INTO public.application_events VALUES (51, 'app-f620bfa55a64', '2026-11-30 17:07:49.839229+00', '11420100MB0002030T', 'govshare-demo', NULL, 'approve', 'accepted', 'approved', '["platform grants unconditional items"]');
INSERT INTO public.application_events VALUES (52, 'app-f620bfa55a64', '2026-11-30 17:07:49.839277+00', '11420100MB0002030T', 'govshare-demo', NULL, 'notify', 'approved', 'approved', '["11420100MB00020220 told: approved"]');
INSERT INTO public.application_events VALUES (53, 'app-13ab597ad236', '2026-11-30 17:07:49.842148+00', '11420100MB00020220', 'govshare-demo', NULL, 'submit', NULL, 'submitted', '[]');
INSERT INTO public.application_events VALUES (54, 'app-13ab597ad236', '2026-11-30 17:07:49.857955+00', '11420100MB0002030T', 'govshare-demo', NULL, 'accept', 'submitted', 'accepted', '["demo: application accepted"]');
INSERT INTO public.application_events VALUES (55, 'app-13ab597ad236', '2026-11-30 17:07:49.858365+00', '11420100MB0002030T', 'govshare-demo', NULL, 'approve', 'accepted', 'approved', '["platform grants unconditional items"]');
INSERT INTO public.application_events VALUES (56, 'app-13ab597ad236', '2026-11-30 17:07:49.858412+00', '11420100MB0002030T', 'govshare-demo', NULL, 'notify', 'approved', 'approved', '["11420100MB00020220 told: approved"]');
INSERT INTO public.application_events VALUES (57, 'app-cabd7a713dc1', '2026-11-30 17:07:49.864007+00', '11420100MB00020220', 'govshare-demo', NULL, 'submit', NULL, 'submitted', '[]');
INSERT INTO public.application_events VALUES (58, 'app-cabd7a713dc1', '2026-11-30 17:07:49.870136+00', '11420100MB0002030T', 'govshare-demo', NULL, 'accept', 'submitted', 'accepted', '["demo: application accepted"]');
INSERT INTO public.application_events VALUES (59, 'app-cabd7a713dc1', '2026-11-30 17:07:49.870533+00', '11420100MB0002030T', 'govshare-demo', NULL, 'approve', 'accepted', 'approved', '["platform grants unconditional items"]');
INSERT INTO public.application_events VALUES (60, 'app-cabd7a713dc1', '2026-11-30 17:07:49.870626+00', '11420100MB0002030T', 'govshare-demo', NULL, 'notify', 'approved', 'approved', '["11420100MB00020220 told: approved"]');
INSERT INTO public.application_events VALUES (61, 'app-9d81de4ad57d', '2026-11-30 17:07:49.890151+00', '11420100MB00020220', 'govshare-demo', NULL, 'submit', NULL, 'submitted', '[]');
INSERT INTO public.application_events VALUES (62, 'app-9d81de4ad57d', '2026-11-30 17:07:49.894646+00', '11420100MB0002030T', 'govshare-demo', NULL, 'accept', 'submitted', 'accepted', '["demo: application accepted"]');
INSERT INTO public.application_events VALUES (63, 'app-9d81de4ad57d', '2026-11-30 17:07:49.895111+00', '11420100MB0002030T', 'govshare-demo', NULL, 'approve', 'accepted', 'approved', '["platform grants unconditional items"]');
INSERT INTO public.application_events VALUES (64, 'app-9d81de4ad57d', '2026-11-30 17:07:49.895158+00', '11420100MB0002030T', 'govshare-demo', NULL, 'notify', 'approved', 'approved', '["11420100MB00020220 told: approved"]');
INSERT INTO public.application_events VALUES (65, 'app-64a9fba69ed2', '2026-11-30 17:07:49.906175+00', '11420100MB00020220', 'govshare-demo', NULL, 'submit', NULL, 'submitted', '[]');
INSERT INTO public.application_events VALUES (66, 'app-64a9fba69ed2', '2026-11-30 17:07:49.926329+00', '11420100MB0002030T', 'govshare-demo', NULL, 'accept', 'submitted', 'accepted', '["demo: application accepted"]');
INSERT INTO public.application_events VALUES (67, 'app-64a9fba69ed2', '2026-11-30 17:07:49.926754+00', '11420100MB0002030T', 'govshare-demo', NULL, 'approve', 'accepted', 'approved', '["platform grants unconditional items"]');
INSERT INTO public.application_events VALUES (68, 'app-64a9fba69ed2', '2026-11-30 17:07:49.926879+00', '11420100MB0002030T', 'govshare-demo', NULL, 'notify', 'approved', 'approved', '["11420100MB00020220 told: approved"]');
INSERT INTO public.application_events VALUES (69, 'app-f9fe17cd7fd5', '2026-11-30 17:07:49.931443+00', '11420100MB00020220', 'govshare-demo', NULL, 'submit', NULL, 'submitted', '[]');
INSERT INTO public.application_events VALUES (70, 'app-f9fe17cd7fd5', '2026-11-30 17:07:49.945412+00', '11420100MB0002030T', 'govshare-demo', NULL, 'accept', 'submitted', 'accepted', '["demo: application accepted"]');
INSERT INTO public.application_events VALUES (71, 'app-f9fe17cd7fd5', '2026-11-30 17:07:49.945937+00', '11420100MB0002030T', 'govshare-demo', NULL, 'approve', 'accepted', 'approved', '["platform grants unconditional items"]');
INSERT INTO public.application_events VALUES (72, 'app-f9fe17cd7fd5', '2026-11-30 17:07:49.945998+00', '11420100MB0002030T', 'govshare-demo', NULL, 'notify', 'approved', 'approved', '["11420100MB00020220 told: approved"]');
INSERT INTO public.application_events VALUES (73, 'app-e73d40090704', '2026-11-30 17:07:49.948369+00', '11420100MB00020220', 'govshare-demo', NULL, 'submit', NULL, 'submitted', '[]');
INSERT INTO public.application_events VALUES (74, 'app-e73d40090704', '2026-11-30 17:07:49.965936+00', '11420100MB0002030T', 'govshare-demo', NULL, 'accept', 'submitted', 'accepted', '["demo: application accepted"]');
INSERT INTO public.application_events VALUES (75, 'app-e73d40090704', '2026-11-30 17:07:49.966353+00', '11420100MB0002030T', 'govshare-demo', NULL, 'approve', 'accepted', 'approved', '["platform grants unconditional items"]');
INSERT INTO public.application_events VALUES (76, 'app-e73d40090704', '2026-11-30 17:07:49.966399+00', '11420100MB0002030T', 'govshare-demo', NULL, 'notify', 'approved', 'approved', '["11420100MB00020220 told: approved"]');
INSERT INTO public.application_events VALUES (77, 'app-79358b18fee5', '2026-11-30 17:07:49.972696+00', '11420100MB00020220', 'govshare-demo', NULL, 'submit', NULL, 'submitted', '[]');
INSERT INTO public.application_events VALUES (78, 'app-79358b18fee5', '2026-11-30 17:07:49.989968+00', '11420100MB0002030T', 'govshare-demo', NULL, 'accept', 'submitted', 'accepted', '["demo: application accepted"]');
INSERT INTO public.application_events VALUES (79, 'app-79358b18fee5', '2026-11-30 17:07:49.990414+00', '11420100MB0002030T', 'govshare-demo', NULL, 'approve', 'accepted', 'approved', '["platform grants unconditional items"]');
INSERT INTO public.application_events VALUES (80, 'app-79358b18fee5', '2026-11-30 17:07:49.99046+00', '11420100MB0002030T', 'govshare-demo', NULL, 'notify', 'approved', 'approved', '["11420100MB00020220 told: approved"]');
INSERT INTO public.application_events VALUES (81, 'app-29bdead1e64d', '2026-11-30 17:07:50.018154+00', '11420100MB0002030T', 'govshare-demo', NULL, 'submit', NULL, 'submitted', '[]');
INSERT INTO public.application_events VALUES (82, 'app-29bdead1e64d', '2026-11-30 17:07:50.034918+00', '11420100MB0002030T', 'govshare-demo', NULL, 'accept', 'submitted', 'accepted', '["demo: application accepted"]');
INSERT INTO public.application_events VALUES (83, 'app-29bdead1e64d', '2026-11-30 17:07:50.035377+00', '11420100MB0002030T', 'govshare-demo', NULL, 'approve', 'accepted', 'approved', '["platform grants unconditional items"]');
INSERT INTO public.application_events VALUES (84, 'app-29bdead1e64d', '2026-11-30 17:07:50.035425+00', '11420100MB0002030T', 'govshare-demo', NULL, 'notify', 'approved', 'approved', '["11420100MB0002030T told: approved"]');
INSERT INTO public.application_events VALUES (85, 'app-4c51253b7128', '2026-11-30 17:07:50.043081+00', '11420100MB0002030T', 'govshare-demo', NULL, 'submit', NULL, 'submitted', '[]');
INSERT INTO public.application_events VALUES (86, 'app-4c51253b7128', '2026-11-30 17:07:50.049941+00', '11420100MB0002030T', 'govshare-demo', NULL, 'accept', 'submitted', 'accepted', '["demo: application accepted"]');
INSERT INTO public.application_events VALUES (87, 'app-4c51253b7128', '2026-11-30 17:07:50.05037+00', '11420100MB0002030T', 'govshare-demo', NULL, 'approve', 'accepted', 'approved', '["platform grants unconditional items"]');
INSERT INTO public.application_events VALUES (88, 'app-4c51253b7128', '2026-11-30 17:07:50.050417+00', '11420100MB0002030T', 'govshare-demo', NULL, 'notify', 'approved', 'approved', '["11420100MB0002030T told: approved"]');
INSERT INTO public.application_events VALUES (89, 'app-95b1a746e126', '2026-11-30 17:07:50.059419+00', '11420100MB0002030T', 'govshare-demo', NULL, 'submit', NULL, 'submitted', '[]');
INSERT INTO public.application_events VALUES (90, 'app-95b1a746e126', '2026-11-30 17:07:50.081948+00', '11420100MB0002030T', 'govshare-demo', NULL, 'accept', 'submitted', 'accepted', '["demo: application accepted"]');
INSERT INTO public.application_events VALUES (91, 'app-95b1a746e126', '2026-11-30 17:07:50.082405+00', '11420100MB0002030T', 'govshare-demo', NULL, 'approve', 'accepted', 'approved', '["platform grants unconditional items"]');
INSERT INTO public.application_events VALUES (92, 'app-95b1a746e126', '2026-11-30 17:07:50.082453+00', '11420100MB0002030T', 'govshare-demo', NULL, 'notify', 'approved', 'approved', '["11420100MB0002030T told: approved"]');
INSERT INTO public.application_events VALUES (93, 'app-0db9b79737e4', '2026-11-30 17:07:50.087648+00', '11420100MB0002030T', 'govshare-demo', NULL, 'submit', NULL, 'submitted', '[]');
INSERT INTO public.application_events VALUES (94, 'app-0db9b79737e4', '2026-11-30 17:07:50.114024+00', '11420100MB0002030T', 'govshare-demo', NULL, 'accept', 'submitted', 'accepted', '["demo: application accepted"]');
INSERT INTO public.application_events VALUES (95, 'app-0db9b79737e4', '2026-11-30 17:07:50.114452+00', '11420100MB0002030T', 'govshare-demo', NULL, 'approve', 'accepted', 'approved', '["platform grants unconditional items"]');
INSERT INTO public.application_events VALUES (96, 'app-0db9b79737e4', '2026-11-30 17:07:50.114497+00', '11420100MB0002030T', 'govshare-demo', NULL, 'notify', 'approved', 'approved', '["11420100MB0002030T told: approved"]');
INSERT INTO public.application_events VALUES (97, 'app-e82c5e036e98', '2026-11-30 17:07:50.126256+00', '11420100MB0002030T', 'govshare-demo', NULL, 'submit', NULL, 'submitted', '[]');
INSERT INTO public.application_events VALUES (98, 'app-e82c5e036e98', '2026-11-30 17:07:50.159635+00', '11420100MB0002030T', 'govshare-demo', NULL, 'accept', 'submitted', 'accepted', '["demo: application accepted"]');
INSERT INTO public.application_events VALUES (99, 'app-e82c5e036e98', '2026-11-30 17:07:50.160112+00', '11420100MB0002030T', 'govshare-demo', NULL, 'approve', 'accepted', 'approved', '["platform grants unconditional items"]');
INSERT INTO public.application_events VALUES (100, 'app-e82c5e036e98', '2026-11-30 17:07:50.160161+00', '11420100MB0002030T', 'govshare-demo', NULL, 'notify', 'approved', 'approved', '["11420100MB0002030T told: approved"]');
INSERT INTO public.application_events VALUES (101, 'app-cff6c94075ba', '2026-11-30 17:07:50.174255+00', '11420100MB0002030T', 'govshare-demo', NULL, 'submit', NULL, 'submitted', '[]');
INSERT INTO public.application_events VALUES (102, 'app-cff6c94075ba', '2026-11-30 17:07:50.185971+00', '11420100MB0002030T', 'govshare-demo', NULL, 'accept', 'submitted', 'accepted', '["demo: application accepted"]');
INSERT INTO public.application_events VALUES (103, 'app-cff6c94075ba', '2026-11-30 17:07:50.186446+00', '11420100MB0002030T', 'govshare-demo', NULL, 'approve', 'accepted', 'approved', '["platform grants unconditional items"]');
INSERT INTO public.application_events VALUES (104, 'app-cff6c94075ba', '2026-11-30 17:07:50.186496+00', '11420100MB0002030T', 'govshare-demo', NULL, 'notify', 'approved', 'approved', '["11420100MB0002030T told: approved"]');
INSERT INTO public.application_events VALUES (105, 'app-a549980e4e78', '2026-11-30 17:07:50.196636+00', '11420100MB0002030T', 'govshare-demo', NULL, 'submit', NULL, 'submitted', '[]');
INSERT INTO public.application_events VALUES (106, 'app-a549980e4e78', '2026-11-30 17:07:50.213983+00', '11420100MB0002030T', 'govshare-demo', NULL, 'accept', 'submitted', 'accepted', '["demo: application accepted"]');
INSERT INTO public.application_events VALUES (107, 'app-a549980e4e78', '2026-11-30 17:07:50.214479+00', '11420100MB0002030T', 'govshare-demo', NULL, 'approve', 'accepted', 'approved', '["platform grants unconditional items"]');
INSERT INTO public.application_events VALUES (108, 'app-a549980e4e78', '2026-11-30 17:07:50.214542+00', '11420100MB0002030T', 'govshare-demo', NULL, 'notify', 'approved', 'approved', '["11420100MB0002030T told: approved"]');
INSERT INTO public.application_events VALUES (109, 'app-d62d9636bc2a', '2026-11-30 17:07:50.230787+00', '11420100MB0002030T', 'govshare-demo', NULL, 'submit', NULL, 'submitted', '[]');
INSERT INTO public.application_events VALUES (110, 'app-d62d9636bc2a', '2026-11-30 17:07:50.253965+00', '11420100MB0002030T', 'govshare-demo', NULL, 'accept', 'submitted', 'accepted', '["demo: application accepted"]');
INSERT INTO public.application_events VALUES (111, 'app-d62d9636bc2a', '2026-11-30 17:07:50.254407+00', '11420100MB0002030T', 'govshare-demo', NULL, 'approve', 'accepted', 'approved', '["platform grants unconditional items"]');
INSERT INTO public.application_events VALUES (112, 'app-d62d9636bc2a', '2026-11-30 17:07:50.254456+00', '11420100MB0002030T', 'govshare-demo', NULL, 'notify', 'approved', 'approved', '["11420100MB0002030T told: approved"]');
INSERT INTO public.application_events VALUES (113, 'app-38fd77d321c7', '2026-11-30 17:07:50.263301+00', '11420100MB0002030T', 'govshare-demo', NULL, 'submit', NULL, 'submitted', '[]');
INSERT INTO public.application_events VALUES (114, 'app-38fd77d321c7', '2026-11-30 17:07:50.27109+00', '11420100MB0002030T', 'govshare-demo', NULL, 'accept', 'submitted', 'accepted', '["demo: application accepted"]');
INSERT INTO public.application_events VALUES (115, 'app-38fd77d321c7', '2026-11-30 17:07:50.27154+00', '11420100MB0002030T', 'govshare-demo', NULL, 'approve', 'accepted', 'approved', '["platform grants unconditional items"]');
INSERT INTO public.application_events VALUES (116, 'app-38fd77d321c7', '2026-11-30 17:07:50.271597+00', '11420100MB0002030T', 'govshare-demo', NULL, 'notify', 'approved', 'approved', '["11420100MB0002030T told: approved"]');
INSERT INTO public.application_events VALUES (117, 'app-888147c45a84', '2026-11-30 17:07:50.294067+00', '11420100MB0002030T', 'govshare-demo', NULL, 'submit', NULL, 'submitted', '[]');
INSERT INTO public.application_events VALUES (118, 'app-888147c45a84', '2026-11-30 17:07:50.298978+00', '11420100MB0002030T', 'govshare-demo', NULL, 'accept', 'submitted', 'accepted', '["demo: application accepted"]');
INSERT INTO public.application_events VALUES (119, 'app-888147c45a84', '2026-11-30 17:07:50.299455+00', '11420100MB0002030T', 'govshare-demo', NULL, 'approve', 'accepted', 'approved', '["platform grants unconditional items"]');
INSERT INTO public.application_events VALUES (120, 'app-888147c45a84', '2026-11-30 17:07:50.299513+00', '11420100MB0002030T', 'govshare-demo', NULL, 'notify', 'approved', 'approved', '["11420100MB0002030T told: approved"]');
INSERT INTO public.application_events VALUES (121, 'app-c00da7c5abdb', '2026-11-30 17:07:50.319769+00', '11420100MB0001011L', 'govshare-demo', NULL, 'submit', NULL, 'submitted', '[]');
INSERT INTO public.application_events VALUES (122, 'app-c00da7c5abdb', '2026-11-30 17:07:50.345994+00', '11420100MB0002030T', 'govshare-demo', NULL, 'accept', 'submitted', 'accepted', '["demo: application accepted"]');
INSERT INTO public.application_events VALUES (123, 'app-c00da7c5abdb', '2026-11-30 17:07:50.346498+00', '11420100MB0002030T', 'govshare-demo', NULL, 'approve', 'accepted', 'approved', '["platform grants unconditional items"]');
INSERT INTO public.application_events VALUES (124, 'app-c00da7c5abdb', '2026-11-30 17:07:50.346554+00', '11420100MB0002030T', 'govshare-demo', NULL, 'notify', 'approved', 'approved', '["11420100MB0001011L told: approved"]');
INSERT INTO public.application_events VALUES (125, 'app-91a3470ebab7', '2026-11-30 17:07:50.368501+00', '11420100MB0001011L', 'govshare-demo', NULL, 'submit', NULL, 'submitted', '[]');
INSERT INTO public.application_events VALUES (126, 'app-91a3470ebab7', '2026-11-30 17:07:50.388043+00', '11420100MB0002030T', 'govshare-demo', NULL, 'accept', 'submitted', 'accepted', '["demo: application accepted"]');
INSERT INTO public.application_events VALUES (127, 'app-91a3470ebab7', '2026-11-30 17:07:50.388515+00', '11420100MB0002030T', 'govshare-demo', NULL, 'approve', 'accepted', 'approved', '["platform grants unconditional items"]');
INSERT INTO public.application_events VALUES (128, 'app-91a3470ebab7', '2026-11-30 17:07:50.388565+00', '11420100MB0002030T', 'govshare-demo', NULL, 'notify', 'approved', 'approved', '["11420100MB0001011L told: approved"]');
INSERT INTO public.application_events VALUES (129, 'app-b029683f4c8b', '2026-11-30 17:07:50.41907+00', '11420100MB0001011L', 'govshare-demo', NULL, 'submit', NULL, 'submitted', '[]');
INSERT INTO public.application_events VALUES (130, 'app-b029683f4c8b', '2026-11-30 17:07:50.472769+00', '11420100MB0002030T', 'govshare-demo', NULL, 'accept', 'submitted', 'accepted', '["demo: application accepted"]');
INSERT INTO public.application_events VALUES (131, 'app-b029683f4c8b', '2026-11-30 17:07:50.473345+00', '11420100MB0002030T', 'govshare-demo', NULL, 'approve', 'accepted', 'approved', '["platform grants unconditional items"]');
INSERT INTO public.application_events VALUES (132, 'app-b029683f4c8b', '2026-11-30 17:07:50.473414+00', '11420100MB0002030T', 'govshare-demo', NULL, 'notify', 'approved', 'approved', '["11420100MB0001011L told: approved"]');
INSERT INTO public.application_events VALUES (133, 'app-661ae351837e', '2026-11-30 17:07:50.506494+00', '11420100MB0001011L', 'govshare-demo', NULL, 'submit', NULL, 'submitted', '[]');
INSERT INTO public.application_events VALUES (134, 'app-661ae351837e', '2026-11-30 17:07:50.52281+00', '11420100MB0002030T', 'govshare-demo', NULL, 'accept', 'submitted', 'accepted', '["demo: application accepted"]');
INSERT INTO public.application_events VALUES (135, 'app-661ae351837e', '2026-11-30 17:07:50.523315+00', '11420100MB0002030T', 'govshare-demo', NULL, 'approve', 'accepted', 'approved', '["platform grants unconditional items"]');
INSERT INTO public.application_events VALUES (136, 'app-661ae351837e', '2026-11-30 17:07:50.523382+00', '11420100MB0002030T', 'govshare-demo', NULL, 'notify', 'approved', 'approved', '["11420100MB0001011L told: approved"]');
INSERT INTO public.application_events VALUES (137, 'app-c6abc9533220', '2026-11-30 17:07:50.54647+00', '11420100MB0001011L', 'govshare-demo', NULL, 'submit', NULL, 'submitted', '[]');
INSERT INTO public.application_events VALUES (138, 'app-c6abc9533220', '2026-11-30 17:07:50.574173+00', '11420100MB0002030T', 'govshare-demo', NULL, 'accept', 'submitted', 'accepted', '["demo: application accepted"]');
INSERT INTO public.application_events VALUES (139, 'app-c6abc9533220', '2026-11-30 17:07:50.574717+00', '11420100MB0002030T', 'govshare-demo', NULL, 'approve', 'accepted', 'approved', '["platform grants unconditional items"]');
INSERT INTO public.application_events VALUES (140, 'app-c6abc9533220', '2026-11-30 17:07:50.57478+00', '11420100MB0002030T', 'govshare-demo', NULL, 'notify', 'approved', 'approved', '["11420100MB0001011L told: approved"]');
INSERT INTO public.application_events VALUES (141, 'app-0b2e857299a0', '2026-11-30 17:07:50.590558+00', '11420100MB0001011L', 'govshare-demo', NULL, 'submit', NULL, 'submitted', '[]');
INSERT INTO public.application_events VALUES (142, 'app-0b2e857299a0', '2026-11-30 17:07:50.597986+00', '11420100MB0002030T', 'govshare-demo', NULL, 'accept', 'submitted', 'accepted', '["demo: application accepted"]');
INSERT INTO public.application_events VALUES (143, 'app-0b2e857299a0', '2026-11-30 17:07:50.598527+00', '11420100MB0002030T', 'govshare-demo', NULL, 'approve', 'accepted', 'approved', '["platform grants unconditional items"]');
INSERT INTO public.application_events VALUES (144, 'app-0b2e857299a0', '2026-11-30 17:07:50.598576+00', '11420100MB0002030T', 'govshare-demo', NULL, 'notify', 'approved', 'approved', '["11420100MB0001011L told: approved"]');
INSERT INTO public.application_events VALUES (145, 'app-fe3eb100867e', '2026-11-30 17:07:50.612492+00', '11420100MB0001011L', 'govshare-demo', NULL, 'submit', NULL, 'submitted', '[]');
INSERT INTO public.application_events VALUES (146, 'app-fe3eb100867e', '2026-11-30 17:07:50.627194+00', '11420100MB0002030T', 'govshare-demo', NULL, 'accept', 'submitted', 'accepted', '["demo: application accepted"]');
INSERT INTO public.application_events VALUES (147, 'app-fe3eb100867e', '2026-11-30 17:07:50.627648+00', '11420100MB0002030T', 'govshare-demo', NULL, 'approve', 'accepted', 'approved', '["platform grants unconditional items"]');
INSERT INTO public.application_events VALUES (148, 'app-fe3eb100867e', '2026-11-30 17:07:50.627697+00', '11420100MB0002030T', 'govshare-demo', NULL, 'notify', 'approved', 'approved', '["11420100MB0001011L told: approved"]');
INSERT INTO public.application_events VALUES (149, 'app-9ba34aa79ddb', '2026-11-30 17:07:50.64612+00', '11420100MB0001011L', 'govshare-demo', NULL, 'submit', NULL, 'submitted', '[]');
INSERT INTO public.application_events VALUES (150, 'app-9ba34aa79ddb', '2026-11-30 17:07:50.664524+00', '11420100MB0002030T', 'govshare-demo', NULL, 'accept', 'submitted', 'accepted', '["demo: application accepted"]');
INSERT INTO public.application_events VALUES (151, 'app-9ba34aa79ddb', '2026-11-30 17:07:50.665002+00', '11420100MB0002030T', 'govshare-demo', NULL, 'approve', 'accepted', 'approved', '["platform grants unconditional items"]');
INSERT INTO public.application_events VALUES (152, 'app-9ba34aa79ddb', '2026-11-30 17:07:50.665062+00', '11420100MB0002030T', 'govshare-demo', NULL, 'notify', 'approved', 'approved', '["11420100MB0001011L told: approved"]');
INSERT INTO public.application_events VALUES (153, 'app-c67c1acbc082', '2026-11-30 17:07:50.686165+00', '11420100MB0001011L', 'govshare-demo', NULL, 'submit', NULL, 'submitted', '[]');
INSERT INTO public.application_events VALUES (154, 'app-c67c1acbc082', '2026-11-30 17:07:50.699071+00', '11420100MB0002030T', 'govshare-demo', NULL, 'accept', 'submitted', 'accepted', '["demo: application accepted"]');
INSERT INTO public.application_events VALUES (155, 'app-c67c1acbc082', '2026-11-30 17:07:50.699574+00', '11420100MB0002030T', 'govshare-demo', NULL, 'approve', 'accepted', 'approved', '["platform grants unconditional items"]');
INSERT INTO public.application_events VALUES (156, 'app-c67c1acbc082', '2026-11-30 17:07:50.699649+00', '11420100MB0002030T', 'govshare-demo', NULL, 'notify', 'approved', 'approved', '["11420100MB0001011L told: approved"]');
INSERT INTO public.application_events VALUES (157, 'app-2cf17fc2b6de', '2026-11-30 17:07:50.710184+00', '11420100MB0001011L', 'govshare-demo', NULL, 'submit', NULL, 'submitted', '[]');
INSERT INTO public.application_events VALUES (158, 'app-2cf17fc2b6de', '2026-11-30 17:07:50.715696+00', '11420100MB0002030T', 'govshare-demo', NULL, 'accept', 'submitted', 'accepted', '["demo: application accepted"]');
INSERT INTO public.application_events VALUES (159, 'app-2cf17fc2b6de', '2026-11-30 17:07:50.71614+00', '11420100MB0002030T', 'govshare-demo', NULL, 'approve', 'accepted', 'approved', '["platform grants unconditional items"]');
INSERT INTO public.application_events VALUES (160, 'app-2cf17fc2b6de', '2026-11-30 17:07:50.716189+00', '11420100MB0002030T', 'govshare-demo', NULL, 'notify', 'approved', 'approved', '["11420100MB0001011L told: approved"]');
INSERT INTO public.application_events VALUES (161, 'app-f665565bf20d', '2026-11-30 17:07:53.119794+00', '11420100MB00020220', 'demo-housing', NULL, 'submit', NULL, 'submitted', '[]');

INSERT INTO public.applications VALUES ('app-199a0a86e201', '11420100MB00020145', '11420100MB0001011L', 'amr.enterprise_registration', '["uscc","name","registered_capital","status","registration_date","business_scope"]', '["bulk","compare","query"]', '行政审批核验', '本部门业务经办人员', '专网访问,按岗位授权,全程留痕', '《湖北省政务信息资源共享管理办法》 art. 18-22', '2026-11-30 17:07:49.46297+00', '2027-11-30 17:07:49.46297+00', 'approved', '2026-11-30 17:07:49.46303+00', '2026-12-04', '2026-11-30 17:07:49.49409+00', '2026-12-15', '2026-11-30 17:07:49.494623+00', '11420100MB0002030T', '2026-12-02', '2026-11-30 17:07:49.494623+00', '["platform grants unconditional items"]', 'grant-1d3093c55a81', NULL);
INSERT INTO public.applications VALUES ('app-e8d207c8893a', '11420100MB00020145', '11420100MB0001011L', 'amr.enterprise_registration', '["legal_representative"]', '["compare"]', '行政审批核验', '本部门业务经办人员', '专网访问,按岗位授权,全程留痕', '《湖北省政务信息资源共享管理办法》 art. 18-22', '2026-11-30 17:07:49.517933+00', '2027-11-30 17:07:49.517933+00', 'approved', '2026-11-30 17:07:49.517976+00', '2026-12-04', '2026-11-30 17:07:49.526457+00', '2026-12-15', '2026-11-30 17:07:49.527019+00', '11420100MB0002030T', '2026-12-02', '2026-11-30 17:07:49.527019+00', '["platform grants unconditional items"]', 'grant-c7ac74930d3e', NULL);
INSERT INTO public.applications VALUES ('app-66a36b164929', '11420100MB00020145', '11420100MB000102XC', 'tax.tax_credit', '["uscc","credit_rating","taxpayer_type"]', '["compare","query"]', '行政审批核验', '本部门业务经办人员', '专网访问,按岗位授权,全程留痕', '《湖北省政务信息资源共享管理办法》 art. 18-22', '2026-11-30 17:07:49.533922+00', '2027-11-30 17:07:49.533922+00', 'approved', '2026-11-30 17:07:49.533968+00', '2026-12-04', '2026-11-30 17:07:49.550991+00', '2026-12-15', '2026-11-30 17:07:49.551466+00', '11420100MB0002030T', '2026-12-02', '2026-11-30 17:07:49.551466+00', '["platform grants unconditional items"]', 'grant-6678e044fed7', NULL);
INSERT INTO public.applications VALUES ('app-76e5b80616db', '11420100MB00020145', '11420100MB0001038C', 'hrss.social_insurance', '["uscc","insured_employees","contribution_status"]', '["query"]', '行政审批核验', '本部门业务经办人员', '专网访问,按岗位授权,全程留痕', '《湖北省政务信息资源共享管理办法》 art. 18-22', '2026-11-30 17:07:49.566496+00', '2027-11-30 17:07:49.566496+00', 'approved', '2026-11-30 17:07:49.566535+00', '2026-12-04', '2026-11-30 17:07:49.59041+00', '2026-12-15', '2026-11-30 17:07:49.590925+00', '11420100MB0002030T', '2026-12-02', '2026-11-30 17:07:49.590925+00', '["platform grants unconditional items"]', 'grant-90a67bedd2f4', NULL);
INSERT INTO public.applications VALUES ('app-c03329b5afc9', '11420100MB00020145', '11420100MB0001062W', 'credit.credit_record', '["uscc","blacklisted","penalty_count"]', '["bulk","query"]', '行政审批核验', '本部门业务经办人员', '专网访问,按岗位授权,全程留痕', '《湖北省政务信息资源共享管理办法》 art. 18-22', '2026-11-30 17:07:49.601978+00', '2027-11-30 17:07:49.601978+00', 'approved', '2026-11-30 17:07:49.602023+00', '2026-12-04', '2026-11-30 17:07:49.614152+00', '2026-12-15', '2026-11-30 17:07:49.614617+00', '11420100MB0002030T', '2026-12-02', '2026-11-30 17:07:49.614617+00', '["platform grants unconditional items"]', 'grant-fc75440a7810', NULL);
INSERT INTO public.applications VALUES ('app-c8c29ca759f1', '11420100MB00020145', '11420100MB00010467', 'psb.resident', '["id_number","gender","birth_date"]', '["compare","query"]', '行政审批核验', '本部门业务经办人员', '专网访问,按岗位授权,全程留痕', '《湖北省政务信息资源共享管理办法》 art. 18-22', '2026-11-30 17:07:49.637927+00', '2027-11-30 17:07:49.637927+00', 'approved', '2026-11-30 17:07:49.637968+00', '2026-12-04', '2026-11-30 17:07:49.666004+00', '2026-12-15', '2026-11-30 17:07:49.666498+00', '11420100MB0002030T', '2026-12-02', '2026-11-30 17:07:49.666498+00', '["platform grants unconditional items"]', 'grant-003a2353336b', NULL);
INSERT INTO public.applications VALUES ('app-96fd15ec7af2', '11420100MB00020145', '11420100MB00010467', 'psb.resident', '["name"]', '["compare"]', '行政审批核验', '本部门业务经办人员', '专网访问,按岗位授权,全程留痕', '《湖北省政务信息资源共享管理办法》 art. 18-22', '2026-11-30 17:07:49.689946+00', '2027-11-30 17:07:49.689946+00', 'approved', '2026-11-30 17:07:49.689992+00', '2026-12-04', '2026-11-30 17:07:49.694245+00', '2026-12-15', '2026-11-30 17:07:49.694714+00', '11420100MB0002030T', '2026-12-02', '2026-11-30 17:07:49.694714+00', '["platform grants unconditional items"]', 'grant-ae0910178771', NULL);
INSERT INTO public.applications VALUES ('app-1ec434d128b1', '11420100MB00020145', '11420100MB00010542', 'mca.marriage', '["id_number"]', '["compare","query"]', '行政审批核验', '本部门业务经办人员', '专网访问,按岗位授权,全程留痕', '《湖北省政务信息资源共享管理办法》 art. 18-22', '2026-11-30 17:07:49.706352+00', '2027-11-30 17:07:49.706352+00', 'approved', '2026-11-30 17:07:49.706392+00', '2026-12-04', '2026-11-30 17:07:49.721479+00', '2026-12-15', '2026-11-30 17:07:49.721987+00', '11420100MB0002030T', '2026-12-02', '2026-11-30 17:07:49.721987+00', '["platform grants unconditional items"]', 'grant-02251a47c500', NULL);
INSERT INTO public.applications VALUES ('app-9915c34dc786', '11420100MB00020145', '11420100MB0001070P', 'hpf.deposit', '["uscc","deposit_status","covered_employees","last_paid_month"]', '["query"]', '行政审批核验', '本部门业务经办人员', '专网访问,按岗位授权,全程留痕', '《湖北省政务信息资源共享管理办法》 art. 18-22', '2026-11-30 17:07:49.741921+00', '2027-11-30 17:07:49.741921+00', 'approved', '2026-11-30 17:07:49.741962+00', '2026-12-04', '2026-11-30 17:07:49.744909+00', '2026-12-15', '2026-11-30 17:07:49.745347+00', '11420100MB0002030T', '2026-12-02', '2026-11-30 17:07:49.745347+00', '["platform grants unconditional items"]', 'grant-aa894f476697', NULL);
INSERT INTO public.applications VALUES ('app-2754f4dee2dd', '11420100MB00020145', '11420100MB0001089L', 'ema.safety_inspection', '["uscc","last_inspection","inspection_result","open_hazards"]', '["query"]', '行政审批核验', '本部门业务经办人员', '专网访问,按岗位授权,全程留痕', '《湖北省政务信息资源共享管理办法》 art. 18-22', '2026-11-30 17:07:49.757875+00', '2027-11-30 17:07:49.757875+00', 'approved', '2026-11-30 17:07:49.757911+00', '2026-12-04', '2026-11-30 17:07:49.767552+00', '2026-12-15', '2026-11-30 17:07:49.767995+00', '11420100MB0002030T', '2026-12-02', '2026-11-30 17:07:49.767995+00', '["platform grants unconditional items"]', 'grant-5803b0908ae8', NULL);
INSERT INTO public.applications VALUES ('app-2c0f4d0f7a5d', '11420100MB00020220', '11420100MB0001011L', 'amr.enterprise_registration', '["uscc","name","registered_capital","status","registration_date","business_scope"]', '["bulk","compare","query"]', '行政审批核验', '本部门业务经办人员', '专网访问,按岗位授权,全程留痕', '《湖北省政务信息资源共享管理办法》 art. 18-22', '2026-11-30 17:07:49.779683+00', '2027-11-30 17:07:49.779683+00', 'approved', '2026-11-30 17:07:49.779719+00', '2026-12-04', '2026-11-30 17:07:49.79815+00', '2026-12-15', '2026-11-30 17:07:49.798585+00', '11420100MB0002030T', '2026-12-02', '2026-11-30 17:07:49.798585+00', '["platform grants unconditional items"]', 'grant-ad532b52b56b', NULL);
INSERT INTO public.applications VALUES ('app-364683d2b7d7', '11420100MB00020220', '11420100MB0001011L', 'amr.enterprise_registration', '["legal_representative"]', '["compare"]', '行政审批核验', '本部门业务经办人员', '专网访问,按岗位授权,全程留痕', '《湖北省政务信息资源共享管理办法》 art. 18-22', '2026-11-30 17:07:49.80053+00', '2027-11-30 17:07:49.80053+00', 'approved', '2026-11-30 17:07:49.800567+00', '2026-12-04', '2026-11-30 17:07:49.815162+00', '2026-12-15', '2026-11-30 17:07:49.815624+00', '11420100MB0002030T', '2026-12-02', '2026-11-30 17:07:49.815624+00', '["platform grants unconditional items"]', 'grant-c03968151683', NULL);
INSERT INTO public.applications VALUES ('app-f620bfa55a64', '11420100MB00020220', '11420100MB000102XC', 'tax.tax_credit', '["uscc","credit_rating","taxpayer_type"]', '["compare","query"]', '行政审批核验', '本部门业务经办人员', '专网访问,按岗位授权,全程留痕', '《湖北省政务信息资源共享管理办法》 art. 18-22', '2026-11-30 17:07:49.81776+00', '2027-11-30 17:07:49.81776+00', 'approved', '2026-11-30 17:07:49.817796+00', '2026-12-04', '2026-11-30 17:07:49.838786+00', '2026-12-15', '2026-11-30 17:07:49.839228+00', '11420100MB0002030T', '2026-12-02', '2026-11-30 17:07:49.839228+00', '["platform grants unconditional items"]', 'grant-40d1ddd675b9', NULL);
INSERT INTO public.applications VALUES ('app-13ab597ad236', '11420100MB00020220', '11420100MB0001038C', 'hrss.social_insurance', '["uscc","insured_employees","contribution_status"]', '["query"]', '行政审批核验', '本部门业务经办人员', '专网访问,按岗位授权,全程留痕', '《湖北省政务信息资源共享管理办法》 art. 18-22', '2026-11-30 17:07:49.841902+00', '2027-11-30 17:07:49.841902+00', 'approved', '2026-11-30 17:07:49.841939+00', '2026-12-04', '2026-11-30 17:07:49.857942+00', '2026-12-15', '2026-11-30 17:07:49.858363+00', '11420100MB0002030T', '2026-12-02', '2026-11-30 17:07:49.858363+00', '["platform grants unconditional items"]', 'grant-588777d7c504', NULL);
INSERT INTO public.applications VALUES ('app-cabd7a713dc1', '11420100MB00020220', '11420100MB0001062W', 'credit.credit_record', '["uscc","blacklisted","penalty_count"]', '["bulk","query"]', '行政审批核验', '本部门业务经办人员', '专网访问,按岗位授权,全程留痕', '《湖北省政务信息资源共享管理办法》 art. 18-22', '2026-11-30 17:07:49.863749+00', '2027-11-30 17:07:49.863749+00', 'approved', '2026-11-30 17:07:49.863786+00', '2026-12-04', '2026-11-30 17:07:49.870124+00', '2026-12-15', '2026-11-30 17:07:49.870531+00', '11420100MB0002030T', '2026-12-02', '2026-11-30 17:07:49.870531+00', '["platform grants unconditional items"]', 'grant-fc6210e7f36e', NULL);
INSERT INTO public.applications VALUES ('app-9d81de4ad57d', '11420100MB00020220', '11420100MB00010467', 'psb.resident', '["id_number","gender","birth_date"]', '["compare","query"]', '行政审批核验', '本部门业务经办人员', '专网访问,按岗位授权,全程留痕', '《湖北省政务信息资源共享管理办法》 art. 18-22', '2026-11-30 17:07:49.889898+00', '2027-11-30 17:07:49.889898+00', 'approved', '2026-11-30 17:07:49.889938+00', '2026-12-04', '2026-11-30 17:07:49.894633+00', '2026-12-15', '2026-11-30 17:07:49.895109+00', '11420100MB0002030T', '2026-12-02', '2026-11-30 17:07:49.895109+00', '["platform grants unconditional items"]', 'grant-561edc4f0e2c', NULL);
INSERT INTO public.applications VALUES ('app-64a9fba69ed2', '11420100MB00020220', '11420100MB00010467', 'psb.resident', '["name"]', '["compare"]', '行政审批核验', '本部门业务经办人员', '专网访问,按岗位授权,全程留痕', '《湖北省政务信息资源共享管理办法》 art. 18-22', '2026-11-30 17:07:49.905911+00', '2027-11-30 17:07:49.905911+00', 'approved', '2026-11-30 17:07:49.905948+00', '2026-12-04', '2026-11-30 17:07:49.926308+00', '2026-12-15', '2026-11-30 17:07:49.926752+00', '11420100MB0002030T', '2026-12-02', '2026-11-30 17:07:49.926752+00', '["platform grants unconditional items"]', 'grant-b713b25126f6', NULL);
INSERT INTO public.applications VALUES ('app-f9fe17cd7fd5', '11420100MB00020220', '11420100MB00010542', 'mca.marriage', '["id_number"]', '["compare","query"]', '行政审批核验', '本部门业务经办人员', '专网访问,按岗位授权,全程留痕', '《湖北省政务信息资源共享管理办法》 art. 18-22', '2026-11-30 17:07:49.931128+00', '2027-11-30 17:07:49.931128+00', 'approved', '2026-11-30 17:07:49.931187+00', '2026-12-04', '2026-11-30 17:07:49.945398+00', '2026-12-15', '2026-11-30 17:07:49.945935+00', '11420100MB0002030T', '2026-12-02', '2026-11-30 17:07:49.945935+00', '["platform grants unconditional items"]', 'grant-fbadc895c4ed', NULL);
INSERT INTO public.applications VALUES ('app-e73d40090704', '11420100MB00020220', '11420100MB0001070P', 'hpf.deposit', '["uscc","deposit_status","covered_employees","last_paid_month"]', '["query"]', '行政审批核验', '本部门业务经办人员', '专网访问,按岗位授权,全程留痕', '《湖北省政务信息资源共享管理办法》 art. 18-22', '2026-11-30 17:07:49.948129+00', '2027-11-30 17:07:49.948129+00', 'approved', '2026-11-30 17:07:49.948167+00', '2026-12-04', '2026-11-30 17:07:49.965922+00', '2026-12-15', '2026-11-30 17:07:49.966351+00', '11420100MB0002030T', '2026-12-02', '2026-11-30 17:07:49.966351+00', '["platform grants unconditional items"]', 'grant-04f2134daf6f', NULL);
INSERT INTO public.applications VALUES ('app-79358b18fee5', '11420100MB00020220', '11420100MB0001089L', 'ema.safety_inspection', '["uscc","last_inspection","inspection_result","open_hazards"]', '["query"]', '行政审批核验', '本部门业务经办人员', '专网访问,按岗位授权,全程留痕', '《湖北省政务信息资源共享管理办法》 art. 18-22', '2026-11-30 17:07:49.972327+00', '2027-11-30 17:07:49.972327+00', 'approved', '2026-11-30 17:07:49.972389+00', '2026-12-04', '2026-11-30 17:07:49.989954+00', '2026-12-15', '2026-11-30 17:07:49.990412+00', '11420100MB0002030T', '2026-12-02', '2026-11-30 17:07:49.990412+00', '["platform grants unconditional items"]', 'grant-2591ef6c909a', NULL);
INSERT INTO public.applications VALUES ('app-29bdead1e64d', '11420100MB0002030T', '11420100MB0001011L', 'amr.enterprise_registration', '["uscc","name","registered_capital","status","registration_date","business_scope"]', '["bulk","compare","query"]', '行政审批核验', '本部门业务经办人员', '专网访问,按岗位授权,全程留痕', '《湖北省政务信息资源共享管理办法》 art. 18-22', '2026-11-30 17:07:50.017842+00', '2027-11-30 17:07:50.017842+00', 'approved', '2026-11-30 17:07:50.017884+00', '2026-12-04', '2026-11-30 17:07:50.034903+00', '2026-12-15', '2026-11-30 17:07:50.035375+00', '11420100MB0002030T', '2026-12-02', '2026-11-30 17:07:50.035375+00', '["platform grants unconditional items"]', 'grant-0b93441d6428', NULL);
INSERT INTO public.applications VALUES ('app-4c51253b7128', '11420100MB0002030T', '11420100MB0001011L', 'amr.enterprise_registration', '["legal_representative"]', '["compare"]', '行政审批核验', '本部门业务经办人员', '专网访问,按岗位授权,全程留痕', '《湖北省政务信息资源共享管理办法》 art. 18-22', '2026-11-30 17:07:50.042817+00', '2027-11-30 17:07:50.042817+00', 'approved', '2026-11-30 17:07:50.042857+00', '2026-12-04', '2026-11-30 17:07:50.049926+00', '2026-12-15', '2026-11-30 17:07:50.050368+00', '11420100MB0002030T', '2026-12-02', '2026-11-30 17:07:50.050368+00', '["platform grants unconditional items"]', 'grant-72ed9821e38d', NULL);
INSERT INTO public.applications VALUES ('app-95b1a746e126', '11420100MB0002030T', '11420100MB000102XC', 'tax.tax_credit', '["uscc","credit_rating","taxpayer_type"]', '["compare","query"]', '行政审批核验', '本部门业务经办人员', '专网访问,按岗位授权,全程留痕', '《湖北省政务信息资源共享管理办法》 art. 18-22', '2026-11-30 17:07:50.059165+00', '2027-11-30 17:07:50.059165+00', 'approved', '2026-11-30 17:07:50.059202+00', '2026-12-04', '2026-11-30 17:07:50.081935+00', '2026-12-15', '2026-11-30 17:07:50.082403+00', '11420100MB0002030T', '2026-12-02', '2026-11-30 17:07:50.082403+00', '["platform grants unconditional items"]', 'grant-5ceb3215b89d', NULL);
INSERT INTO public.applications VALUES ('app-0db9b79737e4', '11420100MB0002030T', '11420100MB0001038C', 'hrss.social_insurance', '["uscc","insured_employees","contribution_status"]', '["query"]', '行政审批核验', '本部门业务经办人员', '专网访问,按岗位授权,全程留痕', '《湖北省政务信息资源共享管理办法》 art. 18-22', '2026-11-30 17:07:50.087373+00', '2027-11-30 17:07:50.087373+00', 'approved', '2026-11-30 17:07:50.087412+00', '2026-12-04', '2026-11-30 17:07:50.11401+00', '2026-12-15', '2026-11-30 17:07:50.11445+00', '11420100MB0002030T', '2026-12-02', '2026-11-30 17:07:50.11445+00', '["platform grants unconditional items"]', 'grant-09a292f366be', NULL);
INSERT INTO public.applications VALUES ('app-e82c5e036e98', '11420100MB0002030T', '11420100MB0001062W', 'credit.credit_record', '["uscc","blacklisted","penalty_count"]', '["bulk","query"]', '行政审批核验', '本部门业务经办人员', '专网访问,按岗位授权,全程留痕', '《湖北省政务信息资源共享管理办法》 art. 18-22', '2026-11-30 17:07:50.125951+00', '2027-11-30 17:07:50.125951+00', 'approved', '2026-11-30 17:07:50.126001+00', '2026-12-04', '2026-11-30 17:07:50.159621+00', '2026-12-15', '2026-11-30 17:07:50.160109+00', '11420100MB0002030T', '2026-12-02', '2026-11-30 17:07:50.160109+00', '["platform grants unconditional items"]', 'grant-e059a34ac9fe', NULL);
INSERT INTO public.applications VALUES ('app-cff6c94075ba', '11420100MB0002030T', '11420100MB00010467', 'psb.resident', '["id_number","gender","birth_date"]', '["compare","query"]', '行政审批核验', '本部门业务经办人员', '专网访问,按岗位授权,全程留痕', '《湖北省政务信息资源共享管理办法》 art. 18-22', '2026-11-30 17:07:50.173946+00', '2027-11-30 17:07:50.173946+00', 'approved', '2026-11-30 17:07:50.173988+00', '2026-12-04', '2026-11-30 17:07:50.185955+00', '2026-12-15', '2026-11-30 17:07:50.186444+00', '11420100MB0002030T', '2026-12-02', '2026-11-30 17:07:50.186444+00', '["platform grants unconditional items"]', 'grant-9138a01dd511', NULL);
INSERT INTO public.applications VALUES ('app-a549980e4e78', '11420100MB0002030T', '11420100MB00010467', 'psb.resident', '["name"]', '["compare"]', '行政审批核验', '本部门业务经办人员', '专网访问,按岗位授权,全程留痕', '《湖北省政务信息资源共享管理办法》 art. 18-22', '2026-11-30 17:07:50.196368+00', '2027-11-30 17:07:50.196368+00', 'approved', '2026-11-30 17:07:50.196407+00', '2026-12-04', '2026-11-30 17:07:50.213969+00', '2026-12-15', '2026-11-30 17:07:50.214476+00', '11420100MB0002030T', '2026-12-02', '2026-11-30 17:07:50.214476+00', '["platform grants unconditional items"]', 'grant-b30fbe6fc9b3', NULL);
INSERT INTO public.applications VALUES ('app-d62d9636bc2a', '11420100MB0002030T', '11420100MB00010542', 'mca.marriage', '["id_number"]', '["compare","query"]', '行政审批核验', '本部门业务经办人员', '专网访问,按岗位授权,全程留痕', '《湖北省政务信息资源共享管理办法》 art. 18-22', '2026-11-30 17:07:50.230468+00', '2027-11-30 17:07:50.230468+00', 'approved', '2026-11-30 17:07:50.230512+00', '2026-12-04', '2026-11-30 17:07:50.253945+00', '2026-12-15', '2026-11-30 17:07:50.254406+00', '11420100MB0002030T', '2026-12-02', '2026-11-30 17:07:50.254406+00', '["platform grants unconditional items"]', 'grant-c776cb1778ec', NULL);
INSERT INTO public.applications VALUES ('app-38fd77d321c7', '11420100MB0002030T', '11420100MB0001070P', 'hpf.deposit', '["uscc","deposit_status","covered_employees","last_paid_month"]', '["query"]', '行政审批核验', '本部门业务经办人员', '专网访问,按岗位授权,全程留痕', '《湖北省政务信息资源共享管理办法》 art. 18-22', '2026-11-30 17:07:50.262963+00', '2027-11-30 17:07:50.262963+00', 'approved', '2026-11-30 17:07:50.263007+00', '2026-12-04', '2026-11-30 17:07:50.271076+00', '2026-12-15', '2026-11-30 17:07:50.271538+00', '11420100MB0002030T', '2026-12-02', '2026-11-30 17:07:50.271538+00', '["platform grants unconditional items"]', 'grant-261926b09534', NULL);
INSERT INTO public.applications VALUES ('app-888147c45a84', '11420100MB0002030T', '11420100MB0001089L', 'ema.safety_inspection', '["uscc","last_inspection","inspection_result","open_hazards"]', '["query"]', '行政审批核验', '本部门业务经办人员', '专网访问,按岗位授权,全程留痕', '《湖北省政务信息资源共享管理办法》 art. 18-22', '2026-11-30 17:07:50.293758+00', '2027-11-30 17:07:50.293758+00', 'approved', '2026-11-30 17:07:50.293802+00', '2026-12-04', '2026-11-30 17:07:50.298963+00', '2026-12-15', '2026-11-30 17:07:50.299453+00', '11420100MB0002030T', '2026-12-02', '2026-11-30 17:07:50.299453+00', '["platform grants unconditional items"]', 'grant-4bad00f502bc', NULL);
INSERT INTO public.applications VALUES ('app-c00da7c5abdb', '11420100MB0001011L', '11420100MB0001011L', 'amr.enterprise_registration', '["uscc","name","registered_capital","status","registration_date","business_scope"]', '["bulk","compare","query"]', '行政审批核验', '本部门业务经办人员', '专网访问,按岗位授权,全程留痕', '《湖北省政务信息资源共享管理办法》 art. 18-22', '2026-11-30 17:07:50.319491+00', '2027-11-30 17:07:50.319491+00', 'approved', '2026-11-30 17:07:50.31953+00', '2026-12-04', '2026-11-30 17:07:50.345978+00', '2026-12-15', '2026-11-30 17:07:50.346495+00', '11420100MB0002030T', '2026-12-02', '2026-11-30 17:07:50.346495+00', '["platform grants unconditional items"]', 'grant-eb27fcc6d64d', NULL);
INSERT INTO public.applications VALUES ('app-91a3470ebab7', '11420100MB0001011L', '11420100MB0001011L', 'amr.enterprise_registration', '["legal_representative"]', '["compare"]', '行政审批核验', '本部门业务经办人员', '专网访问,按岗位授权,全程留痕', '《湖北省政务信息资源共享管理办法》 art. 18-22', '2026-11-30 17:07:50.368213+00', '2027-11-30 17:07:50.368213+00', 'approved', '2026-11-30 17:07:50.368253+00', '2026-12-04', '2026-11-30 17:07:50.388028+00', '2026-12-15', '2026-11-30 17:07:50.388512+00', '11420100MB0002030T', '2026-12-02', '2026-11-30 17:07:50.388512+00', '["platform grants unconditional items"]', 'grant-0791f9a2eded', NULL);
INSERT INTO public.applications VALUES ('app-b029683f4c8b', '11420100MB0001011L', '11420100MB000102XC', 'tax.tax_credit', '["uscc","credit_rating","taxpayer_type"]', '["compare","query"]', '行政审批核验', '本部门业务经办人员', '专网访问,按岗位授权,全程留痕', '《湖北省政务信息资源共享管理办法》 art. 18-22', '2026-11-30 17:07:50.418748+00', '2027-11-30 17:07:50.418748+00', 'approved', '2026-11-30 17:07:50.418793+00', '2026-12-04', '2026-11-30 17:07:50.472751+00', '2026-12-15', '2026-11-30 17:07:50.473342+00', '11420100MB0002030T', '2026-12-02', '2026-11-30 17:07:50.473342+00', '["platform grants unconditional items"]', 'grant-3a5967a0584a', NULL);
INSERT INTO public.applications VALUES ('app-661ae351837e', '11420100MB0001011L', '11420100MB0001038C', 'hrss.social_insurance', '["uscc","insured_employees","contribution_status"]', '["query"]', '行政审批核验', '本部门业务经办人员', '专网访问,按岗位授权,全程留痕', '《湖北省政务信息资源共享管理办法》 art. 18-22', '2026-11-30 17:07:50.506008+00', '2027-11-30 17:07:50.506008+00', 'approved', '2026-11-30 17:07:50.506058+00', '2026-12-04', '2026-11-30 17:07:50.522791+00', '2026-12-15', '2026-11-30 17:07:50.523313+00', '11420100MB0002030T', '2026-12-02', '2026-11-30 17:07:50.523313+00', '["platform grants unconditional items"]', 'grant-9c5688b8d291', NULL);
INSERT INTO public.applications VALUES ('app-c6abc9533220', '11420100MB0001011L', '11420100MB0001062W', 'credit.credit_record', '["uscc","blacklisted","penalty_count"]', '["bulk","query"]', '行政审批核验', '本部门业务经办人员', '专网访问,按岗位授权,全程留痕', '《湖北省政务信息资源共享管理办法》 art. 18-22', '2026-11-30 17:07:50.546114+00', '2027-11-30 17:07:50.546114+00', 'approved', '2026-11-30 17:07:50.546163+00', '2026-12-04', '2026-11-30 17:07:50.574152+00', '2026-12-15', '2026-11-30 17:07:50.574714+00', '11420100MB0002030T', '2026-12-02', '2026-11-30 17:07:50.574714+00', '["platform grants unconditional items"]', 'grant-a86aa6bef30e', NULL);
INSERT INTO public.applications VALUES ('app-0b2e857299a0', '11420100MB0001011L', '11420100MB00010467', 'psb.resident', '["id_number","gender","birth_date"]', '["compare","query"]', '行政审批核验', '本部门业务经办人员', '专网访问,按岗位授权,全程留痕', '《湖北省政务信息资源共享管理办法》 art. 18-22', '2026-11-30 17:07:50.590217+00', '2027-11-30 17:07:50.590217+00', 'approved', '2026-11-30 17:07:50.590263+00', '2026-12-04', '2026-11-30 17:07:50.59797+00', '2026-12-15', '2026-11-30 17:07:50.598526+00', '11420100MB0002030T', '2026-12-02', '2026-11-30 17:07:50.598526+00', '["platform grants unconditional items"]', 'grant-3b44c780be72', NULL);
INSERT INTO public.applications VALUES ('app-fe3eb100867e', '11420100MB0001011L', '11420100MB00010467', 'psb.resident', '["name"]', '["compare"]', '行政审批核验', '本部门业务经办人员', '专网访问,按岗位授权,全程留痕', '《湖北省政务信息资源共享管理办法》 art. 18-22', '2026-11-30 17:07:50.612184+00', '2027-11-30 17:07:50.612184+00', 'approved', '2026-11-30 17:07:50.612226+00', '2026-12-04', '2026-11-30 17:07:50.62718+00', '2026-12-15', '2026-11-30 17:07:50.627646+00', '11420100MB0002030T', '2026-12-02', '2026-11-30 17:07:50.627646+00', '["platform grants unconditional items"]', 'grant-eb0e45b6d038', NULL);
INSERT INTO public.applications VALUES ('app-9ba34aa79ddb', '11420100MB0001011L', '11420100MB00010542', 'mca.marriage', '["id_number"]', '["compare","query"]', '行政审批核验', '本部门业务经办人员', '专网访问,按岗位授权,全程留痕', '《湖北省政务信息资源共享管理办法》 art. 18-22', '2026-11-30 17:07:50.645829+00', '2027-11-30 17:07:50.645829+00', 'approved', '2026-11-30 17:07:50.645869+00', '2026-12-04', '2026-11-30 17:07:50.66451+00', '2026-12-15', '2026-11-30 17:07:50.665+00', '11420100MB0002030T', '2026-12-02', '2026-11-30 17:07:50.665+00', '["platform grants unconditional items"]', 'grant-d5fab2a6fce6', NULL);
INSERT INTO public.applications VALUES ('app-c67c1acbc082', '11420100MB0001011L', '11420100MB0001070P', 'hpf.deposit', '["uscc","deposit_status","covered_employees","last_paid_month"]', '["query"]', '行政审批核验', '本部门业务经办人员', '专网访问,按岗位授权,全程留痕', '《湖北省政务信息资源共享管理办法》 art. 18-22', '2026-11-30 17:07:50.68589+00', '2027-11-30 17:07:50.68589+00', 'approved', '2026-11-30 17:07:50.685937+00', '2026-12-04', '2026-11-30 17:07:50.699057+00', '2026-12-15', '2026-11-30 17:07:50.699572+00', '11420100MB0002030T', '2026-12-02', '2026-11-30 17:07:50.699572+00', '["platform grants unconditional items"]', 'grant-fb527083a3f2', NULL);
INSERT INTO public.applications VALUES ('app-2cf17fc2b6de', '11420100MB0001011L', '11420100MB0001089L', 'ema.safety_inspection', '["uscc","last_inspection","inspection_result","open_hazards"]', '["query"]', '行政审批核验', '本部门业务经办人员', '专网访问,按岗位授权,全程留痕', '《湖北省政务信息资源共享管理办法》 art. 18-22', '2026-11-30 17:07:50.709899+00', '2027-11-30 17:07:50.709899+00', 'approved', '2026-11-30 17:07:50.709938+00', '2026-12-04', '2026-11-30 17:07:50.715683+00', '2026-12-15', '2026-11-30 17:07:50.716138+00', '11420100MB0002030T', '2026-12-02', '2026-11-30 17:07:50.716138+00', '["platform grants unconditional items"]', 'grant-d757addf679a', NULL);
INSERT INTO public.applications VALUES ('app-f665565bf20d', '11420100MB00020220', '11420100MB0001011L', 'amr.enterprise_registration', '["address"]', '["query"]', '住房保障资格审核', '住房保障科审核人员', '政务外网专线，调用留痕', '《公共租赁住房管理办法》第八条', '2026-11-30 17:07:53.119311+00', '2027-02-28 17:07:53.10745+00', 'submitted', '2026-11-30 17:07:53.119382+00', '2026-12-04', NULL, NULL, NULL, NULL, NULL, NULL, '[]', NULL, NULL);

INSERT INTO public.audit_events VALUES ('audit-d019edf804714d9e9f1182bb3a1896bb', 'main', 1, '2026-11-30 17:07:52.341714+00', '0000000000000000000000000000000000000000000000000000000000000000', 'a467318df4b58b042be23f1473b0079909a7b7836cd4c974e5163c0796cb2149', 'admin', NULL, NULL, NULL, NULL, NULL, NULL, 'catalog.load', '[]', '[]', '[]', '{}', NULL, '{"files":{"/tmp/legacy-pg/catalog.yaml":"b4b268a5c85ccf24dd08b4fd575be3ea4367d5ab8dd7dfe997cbaf6a5f1bea57"},"profile":"hubei","resources":["amr.enterprise_registration","credit.credit_record","ema.safety_inspection","hpf.deposit","hrss.social_insurance","mca.marriage","psb.resident","tax.tax_credit"]}');
INSERT INTO public.audit_events VALUES ('audit-78d2f0b2353d48bf98ac7bad238370ab', 'main', 2, '2026-11-30 17:07:52.886958+00', 'a467318df4b58b042be23f1473b0079909a7b7836cd4c974e5163c0796cb2149', '2827363b85d850baffda9d26e4ed27cca82347e9d14d203163b58374583f2993', 'query', '11420100MB00020145', 'demo-drc', NULL, '行政审批核验', NULL, 'query', 'answered', '["amr.enterprise_registration","credit.credit_record","tax.tax_credit"]', '["amr.enterprise_registration.legal_representative","amr.enterprise_registration.name","amr.enterprise_registration.registered_capital","amr.enterprise_registration.status","credit.credit_record.blacklisted","credit.credit_record.penalty_count","tax.tax_credit.credit_rating","tax.tax_credit.taxpayer_type"]', '["91420102MA0000007H"]', '{"amr.enterprise_registration.legal_representative":"ALLOWED","amr.enterprise_registration.name":"ALLOWED","amr.enterprise_registration.registered_capital":"ALLOWED","amr.enterprise_registration.status":"ALLOWED","tax.tax_credit.credit_rating":"ALLOWED","tax.tax_credit.taxpayer_type":"ALLOWED","credit.credit_record.blacklisted":"ALLOWED","credit.credit_record.penalty_count":"ALLOWED"}', 'a8c3ad24ebeba012b510a56f385763e8bce2cec497a7484d5c3a4a3a810d2f0a', '{"subjects_at":{"amr.enterprise_registration":["91420102MA0000007H"],"credit.credit_record":["91420102MA0000007H"],"tax.tax_credit":["91420102MA0000007H"]}}');
INSERT INTO public.audit_events VALUES ('audit-7a175a6806fe4a8eb4b3042ee97beded', 'main', 3, '2026-11-30 17:07:52.927878+00', '2827363b85d850baffda9d26e4ed27cca82347e9d14d203163b58374583f2993', '3baafd03c7f933697ada4c365192fc0102265d3d6ea104222b1b556a36fd903f', 'query', '11420100MB00020145', 'demo-drc', NULL, '行政审批核验', NULL, 'query', 'answered', '["amr.enterprise_registration","credit.credit_record","tax.tax_credit"]', '["amr.enterprise_registration.legal_representative","amr.enterprise_registration.name","amr.enterprise_registration.registered_capital","amr.enterprise_registration.status","credit.credit_record.blacklisted","credit.credit_record.penalty_count","tax.tax_credit.credit_rating","tax.tax_credit.taxpayer_type"]', '["91420103MA0000015T"]', '{"amr.enterprise_registration.legal_representative":"ALLOWED","amr.enterprise_registration.name":"ALLOWED","amr.enterprise_registration.registered_capital":"ALLOWED","amr.enterprise_registration.status":"ALLOWED","tax.tax_credit.credit_rating":"ALLOWED","tax.tax_credit.taxpayer_type":"ALLOWED","credit.credit_record.blacklisted":"ALLOWED","credit.credit_record.penalty_count":"ALLOWED"}', 'd6bc29bdb2e1e216dae2ec0b16ec11a5f9c01348e46681264d9491ab7eea414e', '{"subjects_at":{"amr.enterprise_registration":["91420103MA0000015T"],"credit.credit_record":["91420103MA0000015T"],"tax.tax_credit":["91420103MA0000015T"]}}');
INSERT INTO public.audit_events VALUES ('audit-77b94675dd3b4615ba9ab6ecbaec9131', 'main', 4, '2026-11-30 17:07:52.970759+00', '3baafd03c7f933697ada4c365192fc0102265d3d6ea104222b1b556a36fd903f', 'b3bc720992f23faaa18757e97b615c9ac6ff89e2a0d060c8f548ef161c5d1abe', 'query', '11420100MB00020145', 'demo-drc', NULL, '行政审批核验', NULL, 'query', 'answered', '["amr.enterprise_registration","credit.credit_record","tax.tax_credit"]', '["amr.enterprise_registration.legal_representative","amr.enterprise_registration.name","amr.enterprise_registration.registered_capital","amr.enterprise_registration.status","credit.credit_record.blacklisted","credit.credit_record.penalty_count","tax.tax_credit.credit_rating","tax.tax_credit.taxpayer_type"]', '["91420104MA00000234"]', '{"amr.enterprise_registration.legal_representative":"ALLOWED","amr.enterprise_registration.name":"ALLOWED","amr.enterprise_registration.registered_capital":"ALLOWED","amr.enterprise_registration.status":"ALLOWED","tax.tax_credit.credit_rating":"ALLOWED","tax.tax_credit.taxpayer_type":"ALLOWED","credit.credit_record.blacklisted":"ALLOWED","credit.credit_record.penalty_count":"ALLOWED"}', '4a9c0a876ac0559b90c35b614ae1347a69247d7e04ab2c06cee7f85eafac58ec', '{"subjects_at":{"amr.enterprise_registration":["91420104MA00000234"],"credit.credit_record":["91420104MA00000234"],"tax.tax_credit":["91420104MA00000234"]}}');
INSERT INTO public.audit_events VALUES ('audit-7f23dd24ab704b45b8375acbe8544884', 'main', 5, '2026-11-30 17:07:53.014909+00', 'b3bc720992f23faaa18757e97b615c9ac6ff89e2a0d060c8f548ef161c5d1abe', 'bcdb57113ec1b02bb0403401653c81fed81f7ff72c9656e081201fd28b3bdd2e', 'query', '11420100MB00020145', 'demo-drc', NULL, '行政审批核验', NULL, 'query', 'answered', '["amr.enterprise_registration","credit.credit_record","tax.tax_credit"]', '["amr.enterprise_registration.legal_representative","amr.enterprise_registration.name","amr.enterprise_registration.registered_capital","amr.enterprise_registration.status","credit.credit_record.blacklisted","credit.credit_record.penalty_count","tax.tax_credit.credit_rating","tax.tax_credit.taxpayer_type"]', '["91420105MA0000031D"]', '{"amr.enterprise_registration.legal_representative":"ALLOWED","amr.enterprise_registration.name":"ALLOWED","amr.enterprise_registration.registered_capital":"ALLOWED","amr.enterprise_registration.status":"ALLOWED","tax.tax_credit.credit_rating":"ALLOWED","tax.tax_credit.taxpayer_type":"ALLOWED","credit.credit_record.blacklisted":"ALLOWED","credit.credit_record.penalty_count":"ALLOWED"}', 'ec2fc5fa78e9d6395033e5582317764fae49715476bf280f6b23f59e50bd626c', '{"subjects_at":{"amr.enterprise_registration":["91420105MA0000031D"],"credit.credit_record":["91420105MA0000031D"],"tax.tax_credit":["91420105MA0000031D"]}}');
INSERT INTO public.audit_events VALUES ('audit-8205a98f2796422b8bcab54217c53149', 'main', 6, '2026-11-30 17:07:53.069844+00', 'bcdb57113ec1b02bb0403401653c81fed81f7ff72c9656e081201fd28b3bdd2e', '88ed8b2d37fbfa6198137a5aecd0c094eae3e465ad8fa9708fee51d0f18dc30b', 'query', '11420100MB00020220', 'demo-housing', NULL, '行政审批核验', NULL, 'query', 'partly_refused', '["amr.enterprise_registration"]', '["amr.enterprise_registration.legal_representative"]', '["91420102MA0000007H"]', '{"amr.enterprise_registration.legal_representative":"CONDITIONAL_ACCESS_REQUIRED"}', '89123030b974cbbfdd236923fce83e16c3885ee896a5aab0d2ea0cfd402ada10', '{"subjects_at":{"amr.enterprise_registration":["91420102MA0000007H"]}}');
INSERT INTO public.audit_events VALUES ('audit-b6cf665ad6ca4eb4bc99c2626fc2f207', 'main', 7, '2026-11-30 17:07:53.097738+00', '88ed8b2d37fbfa6198137a5aecd0c094eae3e465ad8fa9708fee51d0f18dc30b', '8b2822c3e24138b6ad53575e072cdc3a4f3ef7dfc968941a64913cbd6b1ecdd8', 'query', '11420100MB00020220', 'demo-housing', NULL, '行政审批核验', NULL, 'query', 'partly_refused', '["amr.enterprise_registration"]', '["amr.enterprise_registration.legal_representative"]', '["91420103MA0000015T"]', '{"amr.enterprise_registration.legal_representative":"CONDITIONAL_ACCESS_REQUIRED"}', '89123030b974cbbfdd236923fce83e16c3885ee896a5aab0d2ea0cfd402ada10', '{"subjects_at":{"amr.enterprise_registration":["91420103MA0000015T"]}}');
INSERT INTO public.audit_events VALUES ('audit-c324ea580dfa41beaa75e827a2cb19c5', 'main', 8, '2026-11-30 17:07:53.179632+00', '8b2822c3e24138b6ad53575e072cdc3a4f3ef7dfc968941a64913cbd6b1ecdd8', '4716963eceb2206a82f646508add85b323e1f174ddcc84c09ba311cfacd17c3f', 'workflow', '11420100MB00020220', 'demo-housing', NULL, NULL, NULL, NULL, 'submit', '["amr.enterprise_registration"]', '[]', '[]', '{}', NULL, '{"application":"app-f665565bf20d","reasons":[],"status":"submitted"}');
INSERT INTO public.audit_events VALUES ('audit-cd2573e293a2423591ceed7bd97c1c01', 'main', 9, '2026-11-30 17:07:53.314062+00', '4716963eceb2206a82f646508add85b323e1f174ddcc84c09ba311cfacd17c3f', 'b86a84b9562e5303ac2e3ff6f66ac08eabff4fbd2b563088c5fcd88cb5337841', 'workflow', '11420100MB00020145', 'demo-drc', NULL, NULL, NULL, NULL, 'objection.raise', '["amr.enterprise_registration"]', '["amr.enterprise_registration.address"]', '["91420102MA0000007H"]', '{}', NULL, '{"objection":"obj-ee0dd09ab217","status":"open"}');
INSERT INTO public.audit_events VALUES ('audit-30668223ad9843309eb444946b728184', 'cli', 1, '2026-11-30 17:07:53.97101+00', '0000000000000000000000000000000000000000000000000000000000000000', 'c7624b55e454cc738d815512327b720e412509854fce6004010c7759e02f0978', 'admin', NULL, NULL, NULL, NULL, NULL, NULL, 'client.create', '[]', '[]', '[]', '{}', NULL, '{"client_id":"client-ac220c76f1fc60ea","created_at":"2026-11-30T17:07:53.637073+00:00","department":"11420100MB00020220","disabled":false,"name":"住房保障系统","roles":["consumer"]}');
INSERT INTO public.audit_events VALUES ('audit-34079c8fc0da4be98829fdb57675d8d5', 'cli', 2, '2026-11-30 17:07:54.290502+00', 'c7624b55e454cc738d815512327b720e412509854fce6004010c7759e02f0978', '09cee13c5248164f86c4684b50e51c6863b261433f99e174d9d19aeebff9272b', 'admin', NULL, NULL, NULL, NULL, NULL, NULL, 'grant.add', '["amr.enterprise_registration"]', '[]', '[]', '{}', NULL, '{"consumer":"11420100MB00020220","id":"grant-19de8b2c18f0","items":["address"],"modes":["query"],"purpose":"住房保障资格审核","resource":"amr.enterprise_registration","revoked":false,"valid_from":"2026-11-30T17:07:54.042773+00:00","valid_until":"2026-12-30T17:07:53.977204+00:00"}');
INSERT INTO public.audit_events VALUES ('audit-ae991e3ca7d3425c830545e1f9566a3c', 'cli', 3, '2026-11-30 17:07:54.52268+00', '09cee13c5248164f86c4684b50e51c6863b261433f99e174d9d19aeebff9272b', '67df1ea3f8d3e0e82404a3c02e04f052d19eb7adb7c00da3aa722a4b7d2bb8eb', 'admin', NULL, NULL, NULL, NULL, NULL, NULL, 'grant.add', '["amr.enterprise_registration"]', '[]', '[]', '{}', NULL, '{"consumer":"11420100MB00020220","id":"grant-1e6fd16b8205","items":["address"],"modes":["query"],"purpose":"住房保障资格审核","resource":"amr.enterprise_registration","revoked":false,"valid_from":"2026-11-30T17:07:54.364677+00:00","valid_until":"2026-12-30T17:07:53.977204+00:00"}');
INSERT INTO public.audit_events VALUES ('audit-fd260ad3f8a844568c1f0e8796abcefd', 'cli', 4, '2026-11-30 17:07:54.73672+00', '67df1ea3f8d3e0e82404a3c02e04f052d19eb7adb7c00da3aa722a4b7d2bb8eb', '50e5d738d49d4e183bcf7981fe19a65fbe4f4591d1af573e6a59fbfd1a877455', 'admin', NULL, NULL, NULL, NULL, NULL, NULL, 'grant.revoke', '["amr.enterprise_registration"]', '[]', '[]', '{}', NULL, '{"grant":"grant-1e6fd16b8205"}');
INSERT INTO public.audit_events VALUES ('audit-834b5b1147714f3faff1354fe80bbd7b', 'cli', 5, '2026-11-30 17:07:55.057827+00', '50e5d738d49d4e183bcf7981fe19a65fbe4f4591d1af573e6a59fbfd1a877455', '5449f6c590aea69fdc6d6a37caa9e4c055ef554ec5143dced0f26c15f787da15', 'admin', NULL, NULL, NULL, NULL, NULL, NULL, 'change.notify', '["amr.enterprise_registration"]', '[]', '[]', '{}', NULL, '{"change":"chg-b1757d7898c6","late":false}');

INSERT INTO public.audit_events_meta VALUES ('owners', '{"amr.enterprise_registration": "11420100MB0001011L", "credit.credit_record": "11420100MB0001062W", "ema.safety_inspection": "11420100MB0001089L", "hpf.deposit": "11420100MB0001070P", "hrss.social_insurance": "11420100MB0001038C", "mca.marriage": "11420100MB00010542", "psb.resident": "11420100MB00010467", "tax.tax_credit": "11420100MB000102XC"}');
INSERT INTO public.audit_events_meta VALUES ('usage_aggregates', '1');

INSERT INTO public.audit_events_resources VALUES ('tax.tax_credit', 'audit-78d2f0b2353d48bf98ac7bad238370ab');
INSERT INTO public.audit_events_resources VALUES ('credit.credit_record', 'audit-78d2f0b2353d48bf98ac7bad238370ab');
INSERT INTO public.audit_events_resources VALUES ('amr.enterprise_registration', 'audit-78d2f0b2353d48bf98ac7bad238370ab');
INSERT INTO public.audit_events_resources VALUES ('tax.tax_credit', 'audit-7a175a6806fe4a8eb4b3042ee97beded');
INSERT INTO public.audit_events_resources VALUES ('credit.credit_record', 'audit-7a175a6806fe4a8eb4b3042ee97beded');
INSERT INTO public.audit_events_resources VALUES ('amr.enterprise_registration', 'audit-7a175a6806fe4a8eb4b3042ee97beded');
INSERT INTO public.audit_events_resources VALUES ('tax.tax_credit', 'audit-77b94675dd3b4615ba9ab6ecbaec9131');
INSERT INTO public.audit_events_resources VALUES ('credit.credit_record', 'audit-77b94675dd3b4615ba9ab6ecbaec9131');
INSERT INTO public.audit_events_resources VALUES ('amr.enterprise_registration', 'audit-77b94675dd3b4615ba9ab6ecbaec9131');
INSERT INTO public.audit_events_resources VALUES ('tax.tax_credit', 'audit-7f23dd24ab704b45b8375acbe8544884');
INSERT INTO public.audit_events_resources VALUES ('credit.credit_record', 'audit-7f23dd24ab704b45b8375acbe8544884');
INSERT INTO public.audit_events_resources VALUES ('amr.enterprise_registration', 'audit-7f23dd24ab704b45b8375acbe8544884');
INSERT INTO public.audit_events_resources VALUES ('amr.enterprise_registration', 'audit-8205a98f2796422b8bcab54217c53149');
INSERT INTO public.audit_events_resources VALUES ('amr.enterprise_registration', 'audit-b6cf665ad6ca4eb4bc99c2626fc2f207');
INSERT INTO public.audit_events_resources VALUES ('amr.enterprise_registration', 'audit-c324ea580dfa41beaa75e827a2cb19c5');
INSERT INTO public.audit_events_resources VALUES ('amr.enterprise_registration', 'audit-cd2573e293a2423591ceed7bd97c1c01');
INSERT INTO public.audit_events_resources VALUES ('amr.enterprise_registration', 'audit-34079c8fc0da4be98829fdb57675d8d5');
INSERT INTO public.audit_events_resources VALUES ('amr.enterprise_registration', 'audit-ae991e3ca7d3425c830545e1f9566a3c');
INSERT INTO public.audit_events_resources VALUES ('amr.enterprise_registration', 'audit-fd260ad3f8a844568c1f0e8796abcefd');
INSERT INTO public.audit_events_resources VALUES ('amr.enterprise_registration', 'audit-834b5b1147714f3faff1354fe80bbd7b');

INSERT INTO public.audit_events_usage VALUES (0, 498905, '11420100MB0001011L', 'query', '11420100MB00020145', 4, 0, 0);
INSERT INTO public.audit_events_usage VALUES (0, 498905, '11420100MB000102XC', 'query', '11420100MB00020145', 4, 0, 0);
INSERT INTO public.audit_events_usage VALUES (0, 498905, '11420100MB0001062W', 'query', '11420100MB00020145', 4, 0, 0);
INSERT INTO public.audit_events_usage VALUES (1, 20788, '11420100MB0001011L', 'query', '11420100MB00020145', 4, 0, 0);
INSERT INTO public.audit_events_usage VALUES (1, 20788, '11420100MB000102XC', 'query', '11420100MB00020145', 4, 0, 0);
INSERT INTO public.audit_events_usage VALUES (1, 20788, '11420100MB0001062W', 'query', '11420100MB00020145', 4, 0, 0);
INSERT INTO public.audit_events_usage VALUES (2, 24323, '11420100MB0001011L', 'query', '11420100MB00020145', 4, 0, 0);
INSERT INTO public.audit_events_usage VALUES (2, 24323, '11420100MB000102XC', 'query', '11420100MB00020145', 4, 0, 0);
INSERT INTO public.audit_events_usage VALUES (2, 24323, '11420100MB0001062W', 'query', '11420100MB00020145', 4, 0, 0);
INSERT INTO public.audit_events_usage VALUES (0, 498905, '11420100MB0001011L', 'query', '11420100MB00020220', 2, 2, 0);
INSERT INTO public.audit_events_usage VALUES (1, 20788, '11420100MB0001011L', 'query', '11420100MB00020220', 2, 2, 0);
INSERT INTO public.audit_events_usage VALUES (2, 24323, '11420100MB0001011L', 'query', '11420100MB00020220', 2, 2, 0);

INSERT INTO public.change_notices VALUES ('chg-b1757d7898c6', 'amr.enterprise_registration', '11420100MB0001011L', '["91420103MA0000015T"]', '["address"]', '2026-11-30 17:07:54.886342+00', '2026-11-30 17:07:54.886412+00', '2026-12-03', false, '11420100MB0001011L');

INSERT INTO public.grants VALUES ('grant-1d3093c55a81', '11420100MB00020145', 'amr.enterprise_registration', '["business_scope","name","registered_capital","registration_date","status","uscc"]', '["bulk","compare","query"]', '行政审批核验', '2026-11-30 17:07:49.46297+00', '2027-11-30 17:07:49.46297+00', NULL, '2026-11-30 17:07:49.494533+00', '{"regions":[],"masks":{},"daily_cap":null}', 'app-199a0a86e201');
INSERT INTO public.grants VALUES ('grant-c7ac74930d3e', '11420100MB00020145', 'amr.enterprise_registration', '["legal_representative"]', '["compare"]', '行政审批核验', '2026-11-30 17:07:49.517933+00', '2027-11-30 17:07:49.517933+00', NULL, '2026-11-30 17:07:49.526934+00', '{"regions":[],"masks":{},"daily_cap":null}', 'app-e8d207c8893a');
INSERT INTO public.grants VALUES ('grant-6678e044fed7', '11420100MB00020145', 'tax.tax_credit', '["credit_rating","taxpayer_type","uscc"]', '["compare","query"]', '行政审批核验', '2026-11-30 17:07:49.533922+00', '2027-11-30 17:07:49.533922+00', NULL, '2026-11-30 17:07:49.551386+00', '{"regions":[],"masks":{},"daily_cap":null}', 'app-66a36b164929');
INSERT INTO public.grants VALUES ('grant-90a67bedd2f4', '11420100MB00020145', 'hrss.social_insurance', '["contribution_status","insured_employees","uscc"]', '["query"]', '行政审批核验', '2026-11-30 17:07:49.566496+00', '2027-11-30 17:07:49.566496+00', NULL, '2026-11-30 17:07:49.590841+00', '{"regions":[],"masks":{},"daily_cap":null}', 'app-76e5b80616db');
INSERT INTO public.grants VALUES ('grant-fc75440a7810', '11420100MB00020145', 'credit.credit_record', '["blacklisted","penalty_count","uscc"]', '["bulk","query"]', '行政审批核验', '2026-11-30 17:07:49.601978+00', '2027-11-30 17:07:49.601978+00', NULL, '2026-11-30 17:07:49.614536+00', '{"regions":[],"masks":{},"daily_cap":null}', 'app-c03329b5afc9');
INSERT INTO public.grants VALUES ('grant-003a2353336b', '11420100MB00020145', 'psb.resident', '["birth_date","gender","id_number"]', '["compare","query"]', '行政审批核验', '2026-11-30 17:07:49.637927+00', '2027-11-30 17:07:49.637927+00', NULL, '2026-11-30 17:07:49.666414+00', '{"regions":[],"masks":{},"daily_cap":null}', 'app-c8c29ca759f1');
INSERT INTO public.grants VALUES ('grant-ae0910178771', '11420100MB00020145', 'psb.resident', '["name"]', '["compare"]', '行政审批核验', '2026-11-30 17:07:49.689946+00', '2027-11-30 17:07:49.689946+00', NULL, '2026-11-30 17:07:49.694637+00', '{"regions":[],"masks":{},"daily_cap":null}', 'app-96fd15ec7af2');
INSERT INTO public.grants VALUES ('grant-02251a47c500', '11420100MB00020145', 'mca.marriage', '["id_number"]', '["compare","query"]', '行政审批核验', '2026-11-30 17:07:49.706352+00', '2027-11-30 17:07:49.706352+00', NULL, '2026-11-30 17:07:49.721905+00', '{"regions":[],"masks":{},"daily_cap":null}', 'app-1ec434d128b1');
INSERT INTO public.grants VALUES ('grant-aa894f476697', '11420100MB00020145', 'hpf.deposit', '["covered_employees","deposit_status","last_paid_month","uscc"]', '["query"]', '行政审批核验', '2026-11-30 17:07:49.741921+00', '2027-11-30 17:07:49.741921+00', NULL, '2026-11-30 17:07:49.745275+00', '{"regions":[],"masks":{},"daily_cap":null}', 'app-9915c34dc786');
INSERT INTO public.grants VALUES ('grant-5803b0908ae8', '11420100MB00020145', 'ema.safety_inspection', '["inspection_result","last_inspection","open_hazards","uscc"]', '["query"]', '行政审批核验', '2026-11-30 17:07:49.757875+00', '2027-11-30 17:07:49.757875+00', NULL, '2026-11-30 17:07:49.767913+00', '{"regions":[],"masks":{},"daily_cap":null}', 'app-2754f4dee2dd');
INSERT INTO public.grants VALUES ('grant-ad532b52b56b', '11420100MB00020220', 'amr.enterprise_registration', '["business_scope","name","registered_capital","registration_date","status","uscc"]', '["bulk","compare","query"]', '行政审批核验', '2026-11-30 17:07:49.779683+00', '2027-11-30 17:07:49.779683+00', NULL, '2026-11-30 17:07:49.798513+00', '{"regions":[],"masks":{},"daily_cap":null}', 'app-2c0f4d0f7a5d');
INSERT INTO public.grants VALUES ('grant-c03968151683', '11420100MB00020220', 'amr.enterprise_registration', '["legal_representative"]', '["compare"]', '行政审批核验', '2026-11-30 17:07:49.80053+00', '2027-11-30 17:07:49.80053+00', NULL, '2026-11-30 17:07:49.81555+00', '{"regions":[],"masks":{},"daily_cap":null}', 'app-364683d2b7d7');
INSERT INTO public.grants VALUES ('grant-40d1ddd675b9', '11420100MB00020220', 'tax.tax_credit', '["credit_rating","taxpayer_type","uscc"]', '["compare","query"]', '行政审批核验', '2026-11-30 17:07:49.81776+00', '2027-11-30 17:07:49.81776+00', NULL, '2026-11-30 17:07:49.83915+00', '{"regions":[],"masks":{},"daily_cap":null}', 'app-f620bfa55a64');
INSERT INTO public.grants VALUES ('grant-588777d7c504', '11420100MB00020220', 'hrss.social_insurance', '["contribution_status","insured_employees","uscc"]', '["query"]', '行政审批核验', '2026-11-30 17:07:49.841902+00', '2027-11-30 17:07:49.841902+00', NULL, '2026-11-30 17:07:49.858297+00', '{"regions":[],"masks":{},"daily_cap":null}', 'app-13ab597ad236');
INSERT INTO public.grants VALUES ('grant-fc6210e7f36e', '11420100MB00020220', 'credit.credit_record', '["blacklisted","penalty_count","uscc"]', '["bulk","query"]', '行政审批核验', '2026-11-30 17:07:49.863749+00', '2027-11-30 17:07:49.863749+00', NULL, '2026-11-30 17:07:49.87046+00', '{"regions":[],"masks":{},"daily_cap":null}', 'app-cabd7a713dc1');
INSERT INTO public.grants VALUES ('grant-561edc4f0e2c', '11420100MB00020220', 'psb.resident', '["birth_date","gender","id_number"]', '["compare","query"]', '行政审批核验', '2026-11-30 17:07:49.889898+00', '2027-11-30 17:07:49.889898+00', NULL, '2026-11-30 17:07:49.895038+00', '{"regions":[],"masks":{},"daily_cap":null}', 'app-9d81de4ad57d');
INSERT INTO public.grants VALUES ('grant-b713b25126f6', '11420100MB00020220', 'psb.resident', '["name"]', '["compare"]', '行政审批核验', '2026-11-30 17:07:49.905911+00', '2027-11-30 17:07:49.905911+00', NULL, '2026-11-30 17:07:49.926681+00', '{"regions":[],"masks":{},"daily_cap":null}', 'app-64a9fba69ed2');
INSERT INTO public.grants VALUES ('grant-fbadc895c4ed', '11420100MB00020220', 'mca.marriage', '["id_number"]', '["compare","query"]', '行政审批核验', '2026-11-30 17:07:49.931128+00', '2027-11-30 17:07:49.931128+00', NULL, '2026-11-30 17:07:49.945843+00', '{"regions":[],"masks":{},"daily_cap":null}', 'app-f9fe17cd7fd5');
INSERT INTO public.grants VALUES ('grant-04f2134daf6f', '11420100MB00020220', 'hpf.deposit', '["covered_employees","deposit_status","last_paid_month","uscc"]', '["query"]', '行政审批核验', '2026-11-30 17:07:49.948129+00', '2027-11-30 17:07:49.948129+00', NULL, '2026-11-30 17:07:49.966283+00', '{"regions":[],"masks":{},"daily_cap":null}', 'app-e73d40090704');
INSERT INTO public.grants VALUES ('grant-2591ef6c909a', '11420100MB00020220', 'ema.safety_inspection', '["inspection_result","last_inspection","open_hazards","uscc"]', '["query"]', '行政审批核验', '2026-11-30 17:07:49.972327+00', '2027-11-30 17:07:49.972327+00', NULL, '2026-11-30 17:07:49.990337+00', '{"regions":[],"masks":{},"daily_cap":null}', 'app-79358b18fee5');
INSERT INTO public.grants VALUES ('grant-0b93441d6428', '11420100MB0002030T', 'amr.enterprise_registration', '["business_scope","name","registered_capital","registration_date","status","uscc"]', '["bulk","compare","query"]', '行政审批核验', '2026-11-30 17:07:50.017842+00', '2027-11-30 17:07:50.017842+00', NULL, '2026-11-30 17:07:50.035292+00', '{"regions":[],"masks":{},"daily_cap":null}', 'app-29bdead1e64d');
INSERT INTO public.grants VALUES ('grant-72ed9821e38d', '11420100MB0002030T', 'amr.enterprise_registration', '["legal_representative"]', '["compare"]', '行政审批核验', '2026-11-30 17:07:50.042817+00', '2027-11-30 17:07:50.042817+00', NULL, '2026-11-30 17:07:50.050296+00', '{"regions":[],"masks":{},"daily_cap":null}', 'app-4c51253b7128');
INSERT INTO public.grants VALUES ('grant-5ceb3215b89d', '11420100MB0002030T', 'tax.tax_credit', '["credit_rating","taxpayer_type","uscc"]', '["compare","query"]', '行政审批核验', '2026-11-30 17:07:50.059165+00', '2027-11-30 17:07:50.059165+00', NULL, '2026-11-30 17:07:50.082324+00', '{"regions":[],"masks":{},"daily_cap":null}', 'app-95b1a746e126');
INSERT INTO public.grants VALUES ('grant-09a292f366be', '11420100MB0002030T', 'hrss.social_insurance', '["contribution_status","insured_employees","uscc"]', '["query"]', '行政审批核验', '2026-11-30 17:07:50.087373+00', '2027-11-30 17:07:50.087373+00', NULL, '2026-11-30 17:07:50.114376+00', '{"regions":[],"masks":{},"daily_cap":null}', 'app-0db9b79737e4');
INSERT INTO public.grants VALUES ('grant-e059a34ac9fe', '11420100MB0002030T', 'credit.credit_record', '["blacklisted","penalty_count","uscc"]', '["bulk","query"]', '行政审批核验', '2026-11-30 17:07:50.125951+00', '2027-11-30 17:07:50.125951+00', NULL, '2026-11-30 17:07:50.160028+00', '{"regions":[],"masks":{},"daily_cap":null}', 'app-e82c5e036e98');
INSERT INTO public.grants VALUES ('grant-9138a01dd511', '11420100MB0002030T', 'psb.resident', '["birth_date","gender","id_number"]', '["compare","query"]', '行政审批核验', '2026-11-30 17:07:50.173946+00', '2027-11-30 17:07:50.173946+00', NULL, '2026-11-30 17:07:50.186363+00', '{"regions":[],"masks":{},"daily_cap":null}', 'app-cff6c94075ba');
INSERT INTO public.grants VALUES ('grant-b30fbe6fc9b3', '11420100MB0002030T', 'psb.resident', '["name"]', '["compare"]', '行政审批核验', '2026-11-30 17:07:50.196368+00', '2027-11-30 17:07:50.196368+00', NULL, '2026-11-30 17:07:50.214383+00', '{"regions":[],"masks":{},"daily_cap":null}', 'app-a549980e4e78');
INSERT INTO public.grants VALUES ('grant-c776cb1778ec', '11420100MB0002030T', 'mca.marriage', '["id_number"]', '["compare","query"]', '行政审批核验', '2026-11-30 17:07:50.230468+00', '2027-11-30 17:07:50.230468+00', NULL, '2026-11-30 17:07:50.254332+00', '{"regions":[],"masks":{},"daily_cap":null}', 'app-d62d9636bc2a');
INSERT INTO public.grants VALUES ('grant-261926b09534', '11420100MB0002030T', 'hpf.deposit', '["covered_employees","deposit_status","last_paid_month","uscc"]', '["query"]', '行政审批核验', '2026-11-30 17:07:50.262963+00', '2027-11-30 17:07:50.262963+00', NULL, '2026-11-30 17:07:50.271457+00', '{"regions":[],"masks":{},"daily_cap":null}', 'app-38fd77d321c7');
INSERT INTO public.grants VALUES ('grant-4bad00f502bc', '11420100MB0002030T', 'ema.safety_inspection', '["inspection_result","last_inspection","open_hazards","uscc"]', '["query"]', '行政审批核验', '2026-11-30 17:07:50.293758+00', '2027-11-30 17:07:50.293758+00', NULL, '2026-11-30 17:07:50.29937+00', '{"regions":[],"masks":{},"daily_cap":null}', 'app-888147c45a84');
INSERT INTO public.grants VALUES ('grant-eb27fcc6d64d', '11420100MB0001011L', 'amr.enterprise_registration', '["business_scope","name","registered_capital","registration_date","status","uscc"]', '["bulk","compare","query"]', '行政审批核验', '2026-11-30 17:07:50.319491+00', '2027-11-30 17:07:50.319491+00', NULL, '2026-11-30 17:07:50.346403+00', '{"regions":[],"masks":{},"daily_cap":null}', 'app-c00da7c5abdb');
INSERT INTO public.grants VALUES ('grant-0791f9a2eded', '11420100MB0001011L', 'amr.enterprise_registration', '["legal_representative"]', '["compare"]', '行政审批核验', '2026-11-30 17:07:50.368213+00', '2027-11-30 17:07:50.368213+00', NULL, '2026-11-30 17:07:50.388422+00', '{"regions":[],"masks":{},"daily_cap":null}', 'app-91a3470ebab7');
INSERT INTO public.grants VALUES ('grant-3a5967a0584a', '11420100MB0001011L', 'tax.tax_credit', '["credit_rating","taxpayer_type","uscc"]', '["compare","query"]', '行政审批核验', '2026-11-30 17:07:50.418748+00', '2027-11-30 17:07:50.418748+00', NULL, '2026-11-30 17:07:50.473232+00', '{"regions":[],"masks":{},"daily_cap":null}', 'app-b029683f4c8b');
INSERT INTO public.grants VALUES ('grant-9c5688b8d291', '11420100MB0001011L', 'hrss.social_insurance', '["contribution_status","insured_employees","uscc"]', '["query"]', '行政审批核验', '2026-11-30 17:07:50.506008+00', '2027-11-30 17:07:50.506008+00', NULL, '2026-11-30 17:07:50.523222+00', '{"regions":[],"masks":{},"daily_cap":null}', 'app-661ae351837e');
INSERT INTO public.grants VALUES ('grant-a86aa6bef30e', '11420100MB0001011L', 'credit.credit_record', '["blacklisted","penalty_count","uscc"]', '["bulk","query"]', '行政审批核验', '2026-11-30 17:07:50.546114+00', '2027-11-30 17:07:50.546114+00', NULL, '2026-11-30 17:07:50.574605+00', '{"regions":[],"masks":{},"daily_cap":null}', 'app-c6abc9533220');
INSERT INTO public.grants VALUES ('grant-3b44c780be72', '11420100MB0001011L', 'psb.resident', '["birth_date","gender","id_number"]', '["compare","query"]', '行政审批核验', '2026-11-30 17:07:50.590217+00', '2027-11-30 17:07:50.590217+00', NULL, '2026-11-30 17:07:50.598448+00', '{"regions":[],"masks":{},"daily_cap":null}', 'app-0b2e857299a0');
INSERT INTO public.grants VALUES ('grant-eb0e45b6d038', '11420100MB0001011L', 'psb.resident', '["name"]', '["compare"]', '行政审批核验', '2026-11-30 17:07:50.612184+00', '2027-11-30 17:07:50.612184+00', NULL, '2026-11-30 17:07:50.627569+00', '{"regions":[],"masks":{},"daily_cap":null}', 'app-fe3eb100867e');
INSERT INTO public.grants VALUES ('grant-d5fab2a6fce6', '11420100MB0001011L', 'mca.marriage', '["id_number"]', '["compare","query"]', '行政审批核验', '2026-11-30 17:07:50.645829+00', '2027-11-30 17:07:50.645829+00', NULL, '2026-11-30 17:07:50.664913+00', '{"regions":[],"masks":{},"daily_cap":null}', 'app-9ba34aa79ddb');
INSERT INTO public.grants VALUES ('grant-fb527083a3f2', '11420100MB0001011L', 'hpf.deposit', '["covered_employees","deposit_status","last_paid_month","uscc"]', '["query"]', '行政审批核验', '2026-11-30 17:07:50.68589+00', '2027-11-30 17:07:50.68589+00', NULL, '2026-11-30 17:07:50.699492+00', '{"regions":[],"masks":{},"daily_cap":null}', 'app-c67c1acbc082');
INSERT INTO public.grants VALUES ('grant-d757addf679a', '11420100MB0001011L', 'ema.safety_inspection', '["inspection_result","last_inspection","open_hazards","uscc"]', '["query"]', '行政审批核验', '2026-11-30 17:07:50.709899+00', '2027-11-30 17:07:50.709899+00', NULL, '2026-11-30 17:07:50.716065+00', '{"regions":[],"masks":{},"daily_cap":null}', 'app-2cf17fc2b6de');
INSERT INTO public.grants VALUES ('grant-de080d2f4ec8', '11420100MB00020145', 'amr.enterprise_registration', '["address","legal_representative"]', '["compare","query"]', '行政审批核验', '2026-11-30 17:07:50.925115+00', '2027-11-30 17:07:50.925033+00', NULL, '2026-11-30 17:07:50.925115+00', '{"regions":[],"masks":{},"daily_cap":null}', NULL);
INSERT INTO public.grants VALUES ('grant-19de8b2c18f0', '11420100MB00020220', 'amr.enterprise_registration', '["address"]', '["query"]', '住房保障资格审核', '2026-11-30 17:07:54.042773+00', '2026-12-30 17:07:53.977204+00', NULL, '2026-11-30 17:07:54.19101+00', '{"regions":[],"masks":{},"daily_cap":null}', NULL);
INSERT INTO public.grants VALUES ('grant-1e6fd16b8205', '11420100MB00020220', 'amr.enterprise_registration', '["address"]', '["query"]', '住房保障资格审核', '2026-11-30 17:07:54.364677+00', '2026-12-30 17:07:53.977204+00', '2026-11-30 17:07:54.618702+00', '2026-11-30 17:07:54.431793+00', '{"regions":[],"masks":{},"daily_cap":null}', NULL);

INSERT INTO public.oauth_clients VALUES ('client-ac220c76f1fc60ea', '11420100MB00020220', '住房保障系统', '["consumer"]', '["client_credentials"]', 'scrypt$16384$8$1$NwRitrYEHjFMID7MydGvyg$N2VKhcjhmslfS8xIdReDDgfI5YHZl_nEPDsBEwcS8dHEk2p8rC8VbRWTaHPaIsSMWBxPkpLyNzOkFulMmT4dXQ', '2026-11-30 17:07:53.637073+00', NULL);

INSERT INTO public.objection_events VALUES (1, 'obj-ee0dd09ab217', '2026-11-30 17:07:53.297328+00', '11420100MB00020145', 'demo-drc', NULL, 'raise', '住所与营业执照不一致');

INSERT INTO public.objections VALUES ('obj-ee0dd09ab217', '11420100MB00020145', '11420100MB0001011L', 'amr.enterprise_registration', '91420102MA0000007H', 'address', '住所与营业执照不一致', 'open', '2026-11-30 17:07:53.29687+00', '2026-12-08', false, '《湖北省政务信息资源共享管理办法》 art. 23: promptly (及时); operator default', NULL, NULL, NULL, NULL);

SELECT pg_catalog.setval('public.application_events_id_seq', 161, true);

SELECT pg_catalog.setval('public.objection_events_id_seq', 1, true);

ALTER TABLE ONLY public.application_events
    ADD CONSTRAINT application_events_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.applications
    ADD CONSTRAINT applications_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.audit_events_meta
    ADD CONSTRAINT audit_events_meta_pkey PRIMARY KEY (key);

ALTER TABLE ONLY public.audit_events
    ADD CONSTRAINT audit_events_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.audit_events_resources
    ADD CONSTRAINT audit_events_resources_pkey PRIMARY KEY (resource, event_id);

ALTER TABLE ONLY public.audit_events_usage
    ADD CONSTRAINT audit_events_usage_pkey PRIMARY KEY (span, bucket, department, mode, consumer);

ALTER TABLE ONLY public.change_notices
    ADD CONSTRAINT change_notices_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.change_source_stamps
    ADD CONSTRAINT change_source_stamps_pkey PRIMARY KEY (resource);

ALTER TABLE ONLY public.grant_usage
    ADD CONSTRAINT grant_usage_pkey PRIMARY KEY ("grant", day, subject);

ALTER TABLE ONLY public.grants
    ADD CONSTRAINT grants_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.oauth_clients
    ADD CONSTRAINT oauth_clients_pkey PRIMARY KEY (client_id);

ALTER TABLE ONLY public.objection_events
    ADD CONSTRAINT objection_events_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.objections
    ADD CONSTRAINT objections_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.onboarding
    ADD CONSTRAINT onboarding_pkey PRIMARY KEY (department);

ALTER TABLE ONLY public.audit_events
    ADD CONSTRAINT uq_audit_events_instance_seq UNIQUE (instance, seq);

CREATE INDEX ix_application_events_application ON public.application_events USING btree (application);

CREATE INDEX ix_applications_consumer ON public.applications USING btree (consumer);

CREATE INDEX ix_applications_provider ON public.applications USING btree (provider);

CREATE INDEX ix_applications_status ON public.applications USING btree (status);

CREATE INDEX ix_audit_events_consumer ON public.audit_events USING btree (consumer);

CREATE INDEX ix_audit_events_order ON public.audit_events USING btree ("time", instance, seq);

CREATE INDEX ix_audit_events_time ON public.audit_events USING btree ("time");

CREATE INDEX ix_change_notices_notified_at ON public.change_notices USING btree (notified_at);

CREATE INDEX ix_change_notices_provider ON public.change_notices USING btree (provider);

CREATE INDEX ix_change_notices_resource ON public.change_notices USING btree (resource);

CREATE INDEX ix_grants_consumer ON public.grants USING btree (consumer);

CREATE INDEX ix_oauth_clients_department ON public.oauth_clients USING btree (department);

CREATE INDEX ix_objection_events_objection ON public.objection_events USING btree (objection);

CREATE INDEX ix_objections_consumer ON public.objections USING btree (consumer);

CREATE INDEX ix_objections_provider ON public.objections USING btree (provider);

CREATE INDEX ix_objections_resource ON public.objections USING btree (resource);

CREATE INDEX ix_objections_status ON public.objections USING btree (status);

CREATE INDEX ix_objections_subject ON public.objections USING btree (subject);

