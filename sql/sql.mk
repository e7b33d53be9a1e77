# sql.mk -- the migrations compiled into libauthgate.a.  Included by the
# top Makefile, which adds $(SQL_OBJ) to libauthgate.a.
#
# $(BUILD)/gen/sql.c holds sql/NNNN-*.sql as string literals
# (ag_sql_migrations[], see lib/db.h); lib/db.c applies them.

SQL_MIGRATIONS = $(sort $(wildcard sql/[0-9][0-9][0-9][0-9]-*.sql))
SQL_OBJ	 = $(BUILD)/gen/sql.o

$(BUILD)/gen/sql.c: sql/embed.sh $(wildcard sql/[0-9]*.sql)
	@mkdir -p $(dir $@)
	sh sql/embed.sh $(SQL_MIGRATIONS) > $@.tmp
	mv $@.tmp $@

$(BUILD)/gen/sql.o: $(BUILD)/gen/sql.c lib/db.h
	$(CC) $(AG_CFLAGS) -c -o $@ $(BUILD)/gen/sql.c
